"""Work done on a schedule or on command rather than in a request: the deadline sweep
(`deadlines`), which composes the services with the notifications they set off."""
