"""Serving a request, shared by the web pages and the API: who is asking (`identity`), the one
transaction a request commits (`transaction`), how a refusal is answered (`refusals`, with the
error pages of `pages`) and how a file is handed over (`downloads`)."""
