"""End a browser's sign-in once its unlock session is gone.

A browser is signed in by two halves: Django's session says *who* it is, and
the unlock cookie names an :class:`~accounts.models.UnlockSession` row that
holds the key. When that row goes away without this browser's doing (signed
out from another device, a password change or recovery elsewhere, an admin
reset or deactivation, expiry), Django's half alone would keep the browser
signed in with a vault that can never unlock, and the sign-in page, seeing a
signed-in browser, would send it straight back. So on the browser's next
request its sign-in ends too: it is logged out, its unlock cookie is cleared,
and the next page it asks for offers a working sign-in.

The live row found here is kept on the request (``locker_unlock_row``), so
decrypting in the same request does not load it again.
"""

from django.contrib import messages
from django.contrib.auth import logout

from accounts.selectors import unlock_session_live
from accounts.unlock import SESSION_KEY, clear_unlock_cookie

SIGNED_OUT_ELSEWHERE = (
    "This browser was signed out (from another device, by a password change or because the session ended). "
    "Sign in again to unlock your vault."
)


class UnlockSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ended = self._end_stale_sign_in(request)
        response = self.get_response(request)
        if ended:
            clear_unlock_cookie(response)
        return response

    @staticmethod
    def _end_stale_sign_in(request) -> bool:
        session = getattr(request, "session", None)
        session_id = session.get(SESSION_KEY) if session is not None else None
        if not session_id or not request.user.is_authenticated:
            return False
        row = unlock_session_live(user_id=request.user.pk, session_id=session_id)
        if row is not None:
            request.locker_unlock_row = row
            return False
        logout(request)
        messages.info(request, SIGNED_OUT_ELSEWHERE)
        return True
