"""One presenter: how dates, people, field values and audit events read, on every page, paper
and e-mail alike. Pages, PDFs, e-mail and CSV only style what this package makes."""
