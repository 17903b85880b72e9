"""What the view routes (and `beatstream.flows`, for the listener hooks) find on the app state.

Both are built once by the lifespan: the active view definitions with the mode they
run in, and the pseudonym keys derived from the server secret.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from beatstream.partners.views.definitions import ActiveViews
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.state import get_active_views, get_pseudonyms

ViewsDep = Annotated[ActiveViews, Depends(get_active_views)]
PseudonymsDep = Annotated[Pseudonyms, Depends(get_pseudonyms)]
