"""Printed records: case records, employee case histories and the account registry as PDF.

WeasyPrint is imported only when a PDF is actually made (see `render`), so importing this
package costs nothing.
"""
