"""Writes on operator accounts: creation, Telegram linking and the second factor.

Only these functions write ``TelegramLink``, ``LinkToken``, ``LoginCode`` and
``RecoveryCode`` rows. Refusals raise ``accounts.exceptions.AccountError`` subclasses,
whose ``str()`` is a translated message for the person concerned.
"""

from accounts.services.housekeeping import (
    EXPIRED_CODE_GRACE,
    PurgedCodes,
    purge_expired_codes,
)
from accounts.services.linking import issue_link_token, link_telegram, unlink_telegram
from accounts.services.login_codes import (
    FAILURE_ALERT_EVERY,
    issue_login_code,
    verify_login_code,
)
from accounts.services.operators import (
    end_sessions,
    ensure_operator,
    ensure_operator_group,
)
from accounts.services.recovery_codes import (
    RECOVERY_CODE_COUNT,
    issue_recovery_codes,
    reveal_recovery_codes,
    use_recovery_code,
)

__all__ = [
    "EXPIRED_CODE_GRACE",
    "FAILURE_ALERT_EVERY",
    "RECOVERY_CODE_COUNT",
    "PurgedCodes",
    "end_sessions",
    "ensure_operator",
    "ensure_operator_group",
    "issue_link_token",
    "issue_login_code",
    "issue_recovery_codes",
    "link_telegram",
    "purge_expired_codes",
    "reveal_recovery_codes",
    "unlink_telegram",
    "use_recovery_code",
    "verify_login_code",
]
