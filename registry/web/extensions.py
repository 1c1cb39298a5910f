"""Flask extension instances, bound to the app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# A Redis outage degrades limits to per-process counts (flask-limiter logs "falling back to
# in-memory storage" once per outage and goes back to Redis when it answers again); a limit
# that still cannot be counted is skipped and logged rather than answered with a 500.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True,
                  in_memory_fallback_enabled=True, swallow_errors=True)
