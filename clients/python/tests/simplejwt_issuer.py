"""A platform whose SimpleJWT signs with RS256 (a key pair, an issuer and an audience), run as
its own process because SimpleJWT reads its settings once per process. Prints, as JSON, the
public key and an access and a refresh token SimpleJWT made for user 7."""

import json

import django
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private_pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

settings.configure(
    SECRET_KEY="issuer-test-only-not-a-secret",
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SIMPLE_JWT={
        "ALGORITHM": "RS256",
        "SIGNING_KEY": private_pem,
        "VERIFYING_KEY": public_pem,
        "ISSUER": "https://platform.example",
        "AUDIENCE": "parlor",
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken  # noqa: E402

user = User(id=7, username="eve")
print(json.dumps({"public_key": public_pem, "access": str(AccessToken.for_user(user)), "refresh": str(RefreshToken.for_user(user))}))
