"""Running the book: chapter execution (papermill), page helpers, the HTML build."""

from vidad.book.chapter import Chapter

__all__ = ["Chapter"]
