"""The service layer: what the CLI and the TUI call. See core.py."""

from circle.service.bulk import BulkMixin
from circle.service.core import COMPACT_AFTER_CHANGES, CircleSummary, WhoAmI, clean_text
from circle.service.exchange import BundleRejected, ExchangeMixin, Received
from circle.service.mailbox_sync import MailboxReport, MailboxSync
from circle.service.membership import InviteInfo
from circle.service.safety import SafetyMixin
from circle.sync.mailbox import Mailbox


class Service(SafetyMixin, BulkMixin, ExchangeMixin):
    """One unlocked profile: its circles, their content, governance, safety
    tools, exchange and this device's own preferences."""

    def static_key(self): return self.profile.identity.dh_key

    def sync_folder(self, folder: Mailbox) -> MailboxReport:
        """One run over a shared folder (a FolderMailbox), or any other mailbox:
        see service/mailbox_sync.py."""
        return MailboxSync(self).run(folder)


__all__ = [
    "COMPACT_AFTER_CHANGES", "BundleRejected", "CircleSummary", "InviteInfo", "Received",
    "Service", "WhoAmI", "clean_text",
]
