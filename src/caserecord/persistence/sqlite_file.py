"""Noticing that the SQLite file a service opened is no longer the one its path names.

A process keeps writing into a database file it has open after the file is deleted or
replaced (a restore copied over it, an operator's ``rm``): every write would be
acknowledged and then lost with the unlinked file.  The file's identity (device and inode)
is taken when the store is opened, and each write transaction compares it with what the
path names now (one ``stat``), refusing the write with :class:`StoreReplacedError` when
they differ.  Reads carry on from the open file.
"""

import os
import weakref
from dataclasses import dataclass

from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteDatastore


class StoreReplacedError(OperationalError):
    """The database file was deleted or replaced while the service had it open: nothing
    is written until the service is started again on the file the path names."""

    code = "store_unavailable"


@dataclass(frozen=True)
class FileIdentity:
    path: str
    device: int
    inode: int

    def check(self) -> None:
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            raise StoreReplacedError(
                f"the database file {self.path} was deleted while the service had it open: "
                "nothing was recorded; restart the service on a restored file"
            ) from None
        if (now.st_dev, now.st_ino) != (self.device, self.inode):
            raise StoreReplacedError(
                f"the database file {self.path} was replaced while the service had it open: "
                "nothing was recorded; restart the service to use the new file"
            )


_watched: "weakref.WeakKeyDictionary[SQLiteDatastore, FileIdentity]" = weakref.WeakKeyDictionary()


def watch(datastore: SQLiteDatastore) -> None:
    """Take the identity of the datastore's file, once (an in-memory database has none)."""
    pool = datastore.pool
    if pool.is_sqlite_memory_mode or datastore in _watched:
        return
    with datastore.transaction(commit=False):
        pass  # the first connection creates the file
    found = os.stat(pool.db_name)
    _watched[datastore] = FileIdentity(pool.db_name, found.st_dev, found.st_ino)


def check_file(datastore: object) -> None:
    """Refuse a write (:class:`StoreReplacedError`) if the datastore's file is no longer
    what its path names; nothing for other stores."""
    identity = _watched.get(datastore) if isinstance(datastore, SQLiteDatastore) else None
    if identity is not None:
        identity.check()
