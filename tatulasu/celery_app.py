"""The Celery app built from the environment, for `celery -A tatulasu.celery_app` (flower).

`tatulasu worker` and `tatulasu beat` build the same app through the same wiring.
"""

from __future__ import annotations

from tatulasu.settings import Settings
from tatulasu.wiring import celery_app

app = celery_app(Settings())
