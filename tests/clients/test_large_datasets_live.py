"""Offline results larger than memory on both clients against a real ChalkServer, whose jobs write
several parquet files each: ``iter_batches()``, ``to_arrow_dataset()``, ``to_polars(lazy=True)``.

The clients' sleeps move the server's clock instead of waiting (as in test_offline_live.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client.testing import ChalkServer
from tests.conftest import SECRET, ClientUnderTest, ServerClock

ROWS_PER_FILE = 40
IDS = list(range(1, 131))  # 130 rows: four files of 40, 40, 40 and 10
OUTPUTS = ["user.name", "user.age"]


@pytest.fixture(scope="module")
def server_clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(scope="module")
def server(server_clock: ServerClock) -> Iterator[ChalkServer]:
    with ChalkServer(
        clock=server_clock, offline_duration=2.0, offline_rows_per_file=ROWS_PER_FILE, client_secret=SECRET
    ) as running:
        yield running


@pytest.fixture
def client_options(server: ChalkServer, server_clock: ServerClock) -> dict[str, Any]:
    return {"server": server, "fake_sleep": server_clock.advance}


def files_under(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


def test_iter_batches_streams_every_row_one_file_at_a_time(client: ClientUnderTest, tmp_path: Path) -> None:
    job = client("offline_query", {"user.id": IDS}, OUTPUTS, wait=True)
    expected = client.run(job.to_arrow())
    assert len(client.run(job.urls())) == 4
    iterator = job.iter_batches(batch_size=16, temp_dir=tmp_path)
    rows: list[dict[str, Any]] = []
    on_disk: list[list[str]] = []
    sizes: list[int] = []

    def take(batch: Any) -> None:
        rows.extend(batch.to_pylist())
        sizes.append(batch.num_rows)
        on_disk.append(files_under(tmp_path))

    if client.kind == "sync":
        for batch in iterator:
            take(batch)
    else:

        async def consume() -> None:
            async for batch in iterator:
                take(batch)

        client.run(consume())
    assert rows == expected.to_pylist()
    assert [row["user.id"] for row in rows] == IDS
    assert sizes == [16, 16, 8] * 3 + [10]  # no batch spans two files
    assert all(len(names) == 1 for names in on_disk)
    assert len({names[0] for names in on_disk}) == 4  # one file at a time, each in turn
    assert list(tmp_path.iterdir()) == []


def test_to_arrow_dataset_and_a_lazy_polars_frame_read_every_row(
    client: ClientUnderTest, tmp_path: Path
) -> None:
    import polars as pl
    import pyarrow.dataset as ds

    job = client("offline_query", {"user.id": IDS}, OUTPUTS, wait=True)
    dataset = client.run(job.to_arrow_dataset(tmp_path / "dataset"))
    assert len(dataset.files) == 4
    assert dataset.to_table().column("user.id").to_pylist() == IDS
    assert dataset.count_rows(filter=ds.field("user.id") > 100) == 30
    frame = client.run(job.to_polars(lazy=True, directory=tmp_path / "polars"))
    assert isinstance(frame, pl.LazyFrame)
    assert frame.select("user.id").collect()["user.id"].to_list() == IDS
    assert len(files_under(tmp_path / "polars")) == 4


def test_urls_that_expire_while_the_caller_works_are_refreshed(
    client: ClientUnderTest, server: ChalkServer, server_clock: ServerClock, tmp_path: Path
) -> None:
    """A slow consumer: the signed URLs expire between two files, and the next file still comes."""
    job = client("offline_query", {"user.id": IDS}, ["user.name"], wait=True)
    iterator = job.iter_batches(temp_dir=tmp_path)
    if client.kind == "sync":
        first = next(iterator)
    else:

        async def step() -> Any:
            return await anext(iterator)

        first = client.run(step())
    assert first.num_rows == ROWS_PER_FILE
    server_clock.advance(server.offline_url_lifetime + 1)  # the URLs the wait saw have expired
    if client.kind == "sync":
        rest = sum(batch.num_rows for batch in iterator)
    else:

        async def consume() -> int:
            return sum([batch.num_rows async for batch in iterator])

        rest = client.run(consume())
    assert first.num_rows + rest == len(IDS)
    assert list(tmp_path.iterdir()) == []
