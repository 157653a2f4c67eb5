"""The Python peer of bench/reset: fastapi-users' password-reset request, `POST /auth/forgot-password`.

FastAPI + fastapi-users with its SQLAlchemy adapter on SQLite (aiosqlite), served by uvicorn (run.sh starts it
with 2 workers, one per core of the bench machine). It does what Usher's `POST /dbconnections/change_password`
does on the request path, with fastapi-users' own defaults:
  * look the user up by email; an unknown address answers the same 202 as a known one;
  * for a known address, fastapi-users creates the reset token (a JWT whose `password_fgpt` claim is the
    password hash hashed again with the library's password helper — Argon2 by default, its recommended
    setting; this is the library's real cost and is kept);
  * `on_after_forgot_password` stores the message to send in an `outbox` table (Usher writes an outbox row
    in the same way; the email itself is sent later by a worker in both cases, outside the measurement).

    python peer_fastapi_users.py seed N        create the tables and N users user0..user{N-1}@bench.example.com
    uvicorn peer_fastapi_users:app --workers 2  serve (PEER_DATABASE_URL, default sqlite+aiosqlite:///./peer.sqlite)
"""
import asyncio
import datetime
import hashlib
import hmac
import os
import sys
import uuid

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy import DateTime, Integer, String, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_URL = os.environ.get("PEER_DATABASE_URL", "sqlite+aiosqlite:///./peer.sqlite")
SECRET = os.environ.get("PEER_SECRET", "bench-reset-secret-0123456789abcdef")
EMAIL_DOMAIN = "bench.example.com"


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    token: Mapped[str] = mapped_column(String(2048), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)


engine = create_async_engine(DATABASE_URL, connect_args={"timeout": 30})


@event.listens_for(engine.sync_engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # The settings a production SQLite deployment uses (and Usher uses): WAL, a busy timeout for the two workers.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_async_session():
    async with session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyUserDatabase(session, User)


class SHA256Fingerprint(PasswordHelper):
    """PEER_FINGERPRINT=sha256: the reset token's password fingerprint as a SHA-256 (not for passwords)."""

    def hash(self, password: str) -> str:
        return hashlib.sha256(password.encode()).hexdigest()

    def verify_and_update(self, plain_password: str, hashed_password: str):
        return hmac.compare_digest(self.hash(plain_password), hashed_password), None


FINGERPRINT = os.environ.get("PEER_FINGERPRINT", "default")


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET

    def __init__(self, user_db):
        super().__init__(user_db, SHA256Fingerprint() if FINGERPRINT == "sha256" else None)

    async def on_after_forgot_password(self, user: User, token: str, request=None):
        session: AsyncSession = self.user_db.session
        session.add(Outbox(recipient=user.email, token=token, created_at=datetime.datetime.now(datetime.UTC)))
        await session.commit()


async def get_user_manager(user_db: SQLAlchemyUserDatabase = Depends(get_user_db)):
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


auth_backend = AuthenticationBackend(name="jwt", transport=BearerTransport(tokenUrl="auth/jwt/login"),
                                     get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

app = FastAPI(title="fastapi-users reset peer")
app.include_router(fastapi_users.get_reset_password_router(), prefix="/auth", tags=["auth"])


@app.get("/health")
async def health():
    return {"status": "ok"}


async def seed(count: int):
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    hashed = PasswordHelper().hash("bench-password-not-used-1!")  # one hash for everyone: seeding stays fast
    async with session_maker() as session:
        for start in range(0, count, 1000):
            session.add_all([User(id=uuid.uuid4(), email=f"user{i}@{EMAIL_DOMAIN}", hashed_password=hashed,
                                  is_active=True, is_verified=True, is_superuser=False)
                             for i in range(start, min(count, start + 1000))])
            await session.commit()
    await engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        asyncio.run(seed(int(sys.argv[2])))
        print(f"seeded {sys.argv[2]} users in {DATABASE_URL}")
    else:
        print(__doc__)
        sys.exit(2)
