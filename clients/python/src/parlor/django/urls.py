"""``path("chat/", include("parlor.django.urls"))``: the token view and the webhook receiver."""

from django.urls import path

from . import views

urlpatterns = [
    path("token/", views.token_view, name="parlor-token"),
    path("webhooks/", views.webhook_view, name="parlor-webhook"),
]
