"""PAM login for the course's hub; the hub's groups are the course's Unix groups the account is in.

The roster (autograder/tools/roster.py) and the instructors' group are Unix groups: the hub reads them at
each login and at each refresh of a session (Authenticator.auth_refresh_age), so a student taken off the
roster loses the course within minutes and cannot log in again (allowed_groups).
"""
import grp
import os
import pwd

from jupyterhub.auth import PAMAuthenticator

from autograder.hub import INSTRUCTORS, STUDENTS


def course_groups(name: str) -> list:
    """The course's groups (instructors', students') that the Unix account `name` is in."""
    try:
        gids = set(os.getgrouplist(name, pwd.getpwnam(name).pw_gid))
    except KeyError:
        return []
    return [group for group in (INSTRUCTORS, STUDENTS) if _gid(group) in gids]


def _gid(group: str):
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


class CourseAuthenticator(PAMAuthenticator):
    """PAMAuthenticator whose users carry their course groups (Authenticator.manage_groups)."""

    async def authenticate(self, handler, data):
        name = await super().authenticate(handler, data)
        return {"name": name, "groups": course_groups(name)} if name else None

    async def refresh_user(self, user, handler=None):
        return {"name": user.name, "groups": course_groups(user.name)}
