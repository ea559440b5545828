"""Logins for the class: NativeAuthenticator (passwords the hub stores, bcrypt-hashed), limited to the roster.

A student signs up at /hub/signup with the id on the roster and a password of their choice; an
instructor (a hub admin) then authorizes the account at /hub/authorize, so nobody can claim a
classmate's id first. With `RosterAuthenticator.open_signup = True` a roster id is authorized at sign-up.
Names that are not on the roster cannot sign up at all. Instructors are authorized when they sign up.
"""

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode

from coursehub.roster import Roster


class RosterAuthenticator(NativeAuthenticator):
    """NativeAuthenticator that signs up only the roster's logins and leaves students to be authorized."""

    state_dir = Unicode(config=True, help="The hub's state folder, holding students.csv and instructors.txt.")

    def roster(self):
        """The class as the state folder lists it now (a roster changed by `make hub` applies at once)."""
        return Roster.read(self.state_dir)

    def validate_username(self, username):
        """Only logins on the roster (students, instructors, teaching assistants) may sign up or log in."""
        return super().validate_username(username) and username in self.roster().everyone

    def get_authed_users(self):
        """Accounts authorized without an instructor's approval: admins and those already authorized.

        NativeAuthenticator also counts every allowed user, which would let anyone who knows a
        classmate's id sign up as them; here an allowed student still waits for approval.
        """
        authorized = {info.username for info in UserInfo.all_users(self.db) if info.is_authorized}
        return authorized | set(self.admin_users)
