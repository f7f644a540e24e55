"""The `cases` blueprint, on its own so that the modules that add routes to it and the
package that gathers them import it without importing each other."""

from flask import Blueprint

bp = Blueprint("cases", __name__)
