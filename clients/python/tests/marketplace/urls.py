"""The platform's URLs: parlor's token view and webhook receiver under /chat/, a profile page
with a "Chat with X" button, and (tests only) a sign-in that skips the password."""

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import include, path


def profile(request: HttpRequest, username: str) -> HttpResponse:
    person = get_object_or_404(get_user_model(), username=username)
    return render(request, "marketplace/profile.html", {"person": person})


def test_sign_in(request: HttpRequest, username: str) -> HttpResponse:
    login(request, get_object_or_404(get_user_model(), username=username))
    return HttpResponseRedirect(request.GET.get("next", "/"))


urlpatterns = [
    path("chat/", include("parlor.django.urls")),
    path("people/<str:username>/", profile),
    path("test-sign-in/<str:username>/", test_sign_in),
]
