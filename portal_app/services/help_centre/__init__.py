"""The help centre: Markdown articles managed by staff, public or for signed-in customers, and a search that finds
the article for the way customers ask ("where is my container", "can I change the delivery address").

- :mod:`.text`: words to search terms (stop words, freight phrases, Snowball stemming, the synonym table).
- :mod:`.index`: BM25F over title, keywords and body, in memory per process, rebuilt when an article changes.
- :mod:`.render`: Markdown to safe HTML on the server (raw HTML off, links checked).
- :mod:`.articles`: reading by audience, staff management with optimistic locking and an audit row per change.
- :mod:`.search`: search (recorded, gaps), ``suggest_articles`` for the request form, the gaps list for staff.

See docs/help-centre.md.
"""

from portal_app.services.help_centre.articles import (
    AUDIENCE_LABELS,
    AUDIENCES,
    ArticleEdit,
    ArticleInput,
    ArticleRow,
    ArticleSummary,
    ArticleView,
    create_article,
    get_article,
    get_article_for_edit,
    list_articles,
    manage_articles,
    preview,
    set_audience,
    set_published,
    update_article,
)
from portal_app.services.help_centre.search import (
    GAP_THRESHOLD,
    ArticleSuggestion,
    GapRow,
    SearchResult,
    SearchSummary,
    list_gaps,
    search_articles,
    search_summary,
    suggest_articles,
)

__all__ = [
    "AUDIENCES",
    "AUDIENCE_LABELS",
    "GAP_THRESHOLD",
    "ArticleEdit",
    "ArticleInput",
    "ArticleRow",
    "ArticleSuggestion",
    "ArticleSummary",
    "ArticleView",
    "GapRow",
    "SearchResult",
    "SearchSummary",
    "create_article",
    "get_article",
    "get_article_for_edit",
    "list_articles",
    "list_gaps",
    "manage_articles",
    "preview",
    "search_articles",
    "search_summary",
    "set_audience",
    "set_published",
    "suggest_articles",
    "update_article",
]
