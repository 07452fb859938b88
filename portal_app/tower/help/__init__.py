"""Tower: the help centre's articles and the questions customers searched without a good answer.

Every member of staff reads the list (drafts too) and the gaps; writing, publishing and the audience are for ops
managers and administrators (``Permission.MANAGE_HELP``), and the service refuses anyone else whatever the page
shows. The editor saves only over the version it opened: when someone saved in between, nothing is written and
the page says so, keeping what was typed. Below the Markdown the editor shows the article as readers will see it,
rendered on the server by the same code as the reader's page, each time the text field loses focus.
"""

from portal_app.tower.help.state import TowerHelpState
from portal_app.tower.help.view import tower_help

__all__ = ["TowerHelpState", "tower_help"]
