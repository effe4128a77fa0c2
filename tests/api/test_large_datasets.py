"""Offline results larger than memory, on both clients against the fake API: ``iter_batches()``
(one file on disk, no batch kept), ``to_arrow_dataset()`` and ``to_polars(lazy=True)``.

The structural guarantees are checked where they could break: the temporary directory is listed at
every batch handed out and at every request for a file (when the file being downloaded is the only
one there), the batches handed out are watched through weak references (the iterator must not
keep one once the caller has dropped it, not even while it downloads the next file), and the Arrow
memory pool is read at every batch (a whole file read into memory would show).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import re
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalk_client import ChalkDownloadError, ChalkInputError, ChalkMissingDependencyError
from tests.api.test_offline import JOB, FakeJob, parquet_bytes
from tests.conftest import ClientUnderTest
from tests.fake_api import FakeChalkAPI

# Three files of 7, 5 and 9 rows: ids 0..20 in order, in batches of at most 3 rows.
SIZES = [7, 5, 9]


def numbered_files(sizes: list[int]) -> list[bytes]:
    """Parquet files whose "user.id" count on from one file to the next."""
    files, start = [], 0
    for size in sizes:
        ids = list(range(start, start + size))
        files.append(parquet_bytes({"user.id": ids, "user.name": [f"name-{n}" for n in ids]}))
        start += size
    return files


@pytest.fixture
def job(api: FakeChalkAPI) -> FakeJob:
    return FakeJob(api, files=numbered_files(SIZES))


class Batches:
    """A job's ``iter_batches()``, stepped one batch at a time on either client."""

    def __init__(self, client: ClientUnderTest, iterator: Any) -> None:
        self.client = client
        self.iterator = iterator

    def next(self) -> Any:
        """The next batch, or None at the end."""
        if self.client.kind == "sync":
            return next(self.iterator, None)

        async def step() -> Any:
            return await anext(self.iterator, None)

        return self.client.run(step())

    def close(self) -> None:
        if self.client.kind == "sync":
            self.iterator.close()
        else:
            self.client.run(self.iterator.aclose())


def batches(client: ClientUnderTest, **options: Any) -> Batches:
    query = client("offline_query", output=["user.name"])
    return Batches(client, query.iter_batches(**options))


def on_disk(directory: Path) -> list[str]:
    """Every file under `directory`, by its name, sorted."""
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


def watch_downloads(api: FakeChalkAPI, action: Callable[[httpx.Request], None]) -> None:
    """Call `action` with each request for a result file, before it is answered."""
    storage = api.public_handlers["/_storage/"]

    def handler(request: httpx.Request) -> httpx.Response:
        action(request)
        return storage(request)

    api.public_handlers["/_storage/"] = handler


# -- iter_batches: the rows -----------------------------------------------------------------------


def test_batches_come_file_by_file_in_order_with_every_row(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    stepper = batches(client, batch_size=3, temp_dir=tmp_path)
    seen: list[list[int]] = []
    while (batch := stepper.next()) is not None:
        assert batch.schema.names == ["user.id", "user.name"]
        seen.append(batch.column("user.id").to_pylist())
    assert [n for ids in seen for n in ids] == list(range(sum(SIZES)))
    assert all(1 <= len(ids) <= 3 for ids in seen)
    # A batch never spans two files: 7 rows are 3 + 3 + 1, then 5 are 3 + 2, then 9 are 3 + 3 + 3.
    assert [len(ids) for ids in seen] == [3, 3, 1, 3, 2, 3, 3, 3]
    assert job.polls == 3  # waited for the job first
    assert all("authorization" not in r.headers for r in job.storage_requests)


def test_iteration_waits_for_the_job_when_it_starts(client: ClientUnderTest, job: FakeJob) -> None:
    query = client("offline_query", output=["user.name"])
    iterator = query.iter_batches()
    assert job.polls == 0  # nothing is sent until the first batch is asked for
    stepper = Batches(client, iterator)
    assert stepper.next() is not None
    assert job.polls == 3
    assert client.sleeps == [0.5, 1.0]  # the wait's pauses, recorded, never slept
    stepper.close()


def test_columns_reads_only_those_columns(client: ClientUnderTest, job: FakeJob) -> None:
    stepper = batches(client, columns=["user.name"])
    names = []
    while (batch := stepper.next()) is not None:
        assert batch.schema.names == ["user.name"]
        names += batch.column("user.name").to_pylist()
    assert names == [f"name-{n}" for n in range(sum(SIZES))]


def test_an_empty_result_yields_nothing(client: ClientUnderTest, api: FakeChalkAPI, tmp_path: Path) -> None:
    job = FakeJob(api, files=[])
    stepper = batches(client, temp_dir=tmp_path)
    assert stepper.next() is None
    assert job.storage_requests == []
    assert on_disk(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # the temporary directory is gone too


# -- iter_batches: one file on disk, no batch kept ------------------------------------------------


def test_at_most_one_file_is_on_disk_and_the_directory_goes_at_the_end(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"  # created when iteration starts
    at_requests: list[list[str]] = []
    watch_downloads(api, lambda request: at_requests.append(on_disk(scratch)))
    stepper = batches(client, batch_size=3, temp_dir=scratch)
    at_batches: list[list[str]] = []
    while (batch := stepper.next()) is not None:
        at_batches.append(on_disk(scratch))
        [private] = list(scratch.iterdir())  # one private directory, under the one given
        assert private.name.startswith("chalk-batches-")
        del batch
    # At every batch, the file it comes from is the only file there.
    assert at_batches == [[f"{JOB}-0000{i}.parquet"] for i, n in enumerate([3, 2, 3]) for _ in range(n)]
    # When a file is requested, the previous one is gone: only the new one's temporary name is there.
    assert len(at_requests) == len(SIZES)
    for index, names in enumerate(at_requests):
        [name] = names
        assert name.startswith(f".{JOB}-0000{index}.parquet.")
        assert name.endswith(".part")
    assert list(scratch.iterdir()) == []  # the private directory is gone


def test_the_iterator_keeps_no_batch_it_has_handed_out(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob
) -> None:
    handed_out: list[weakref.ref[Any]] = []

    def all_freed(*_: object) -> None:
        gc.collect()
        alive = [ref for ref in handed_out if ref() is not None]
        assert alive == [], f"{len(alive)} batches handed out are still alive"

    freed_at_requests: list[bool] = []

    def at_request(request: httpx.Request) -> None:
        # While the next file downloads, the last batch of the previous one must not be held.
        gc.collect()
        freed_at_requests.append(all(ref() is None for ref in handed_out))

    watch_downloads(api, at_request)
    stepper = batches(client, batch_size=2)
    count = 0
    while (batch := stepper.next()) is not None:
        all_freed()  # every batch before this one was freed once the caller let go of it
        handed_out.append(weakref.ref(batch))
        count += 1
        del batch
    assert count == 4 + 3 + 5
    assert freed_at_requests == [True, True, True]
    all_freed()


@pytest.mark.parametrize("shape", ["row groups", "one row group"])
def test_memory_holds_about_one_batch_not_a_file(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI, shape: str
) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, batch_rows = 2_000_000, 20_000
    table = pa.table(
        {"user.id": pa.array(range(rows), pa.int64()), "user.score": pa.array(range(rows), pa.float64())}
    )
    whole = table.nbytes  # 32 MB as a table
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=100_000 if shape == "row groups" else rows, compression="none")
    del table
    FakeJob(api, files=[sink.getvalue()])
    client = make_client()
    stepper = batches(client, batch_size=batch_rows)
    gc.collect()
    baseline = pa.total_allocated_bytes()
    peak, total = 0, 0
    while (batch := stepper.next()) is not None:
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        total += batch.num_rows
        del batch
    assert total == rows
    # A batch is 320 kB; the reader holds a buffer, a page or so, and the batch it is building.
    assert peak < whole / 4, f"{peak} bytes of Arrow memory at a batch, for a file of {whole}"


# -- iter_batches: stopping early, failing --------------------------------------------------------


def test_the_directory_goes_when_iteration_is_stopped_early(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    stepper = batches(client, batch_size=3, temp_dir=tmp_path)
    assert stepper.next() is not None
    assert on_disk(tmp_path) == [f"{JOB}-00000.parquet"]
    stepper.close()  # what a break does to a for loop's iterator (close(), or aclose() if async)
    assert list(tmp_path.iterdir()) == []
    assert len(job.storage_requests) == 1  # the other files were never fetched


def test_a_break_in_a_loop_removes_the_directory(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    query = client("offline_query", output=["user.name"])
    if client.kind == "sync":
        for batch in query.iter_batches(temp_dir=tmp_path):
            assert on_disk(tmp_path) == [f"{JOB}-00000.parquet"]
            del batch
            break  # the iterator is dropped here, so closed
    else:

        async def first() -> None:
            async for batch in query.iter_batches(temp_dir=tmp_path):
                assert on_disk(tmp_path) == [f"{JOB}-00000.parquet"]
                del batch
                break  # the iterator is dropped here; the event loop closes it

        client.run(first())
        client.run(asyncio.sleep(0))  # one turn of the loop, for its finalizer
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_iterator_removes_the_directory(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    stepper = batches(client, temp_dir=tmp_path)
    assert stepper.next() is not None
    del stepper
    gc.collect()
    if client.kind == "async":
        client.run(asyncio.sleep(0))  # the event loop's finalizer closes it
    assert list(tmp_path.iterdir()) == []


def test_aclosing_removes_the_directory_at_once(
    client_factory: Callable[..., ClientUnderTest], api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    client = client_factory("async", api=api, fake_sleep=True)
    query = client("offline_query", output=["user.name"])

    async def first() -> None:
        async with contextlib.aclosing(query.iter_batches(temp_dir=tmp_path)) as iterator:
            async for _ in iterator:
                break
        assert list(tmp_path.iterdir()) == []

    client.run(first())


def test_a_download_failure_surfaces_and_removes_the_directory(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    job.storage_script = {1: ["cut", "cut", "cut"]}
    stepper = batches(client, temp_dir=tmp_path)
    first = stepper.next()
    assert first.column("user.id").to_pylist() == list(range(7))
    with pytest.raises(ChalkDownloadError) as caught:
        stepper.next()
    assert "file 2 of 3" in str(caught.value)
    assert caught.value.attempts == 3
    assert list(tmp_path.iterdir()) == []
    assert len(client.sleeps) >= 2 + 2  # the wait's pauses, then the retries' backoff, recorded
    assert stepper.next() is None  # a generator that raised is finished


def test_an_expired_url_is_refreshed_between_files(client: ClientUnderTest, job: FakeJob) -> None:
    job.storage_script = {1: ["403"]}
    stepper = batches(client)
    ids: list[int] = []
    while (batch := stepper.next()) is not None:
        ids += batch.column("user.id").to_pylist()
    assert ids == list(range(sum(SIZES)))
    # The second file's URL had expired; it and the third then came from fresh URLs.
    assert [r.url.params["gen"] for r in job.storage_requests] == ["1", "1", "2", "2"]


def test_async_downloads_do_not_block_the_event_loop(
    client_factory: Callable[..., ClientUnderTest], api: FakeChalkAPI, job: FakeJob
) -> None:
    """Each file's body waits for an event only another task sets: a blocking download would hang."""
    client = client_factory("async", api=api, fake_sleep=True)
    data = job.files
    gate: dict[str, asyncio.Event] = {}

    class GatedStream(httpx.AsyncByteStream):
        def __init__(self, body: bytes) -> None:
            self.body = body

        async def __aiter__(self) -> Any:
            gate["open"] = asyncio.Event()
            await asyncio.wait_for(gate["open"].wait(), 10)
            yield self.body

    def storage(request: httpx.Request) -> httpx.Response:
        index = int(request.url.path.rsplit("-", 1)[1].split(".")[0])
        headers = {"content-length": str(len(data[index]))}
        return httpx.Response(200, headers=headers, stream=GatedStream(data[index]))

    api.public_handlers["/_storage/"] = storage
    query = client("offline_query", output=["user.name"])

    async def run() -> list[int]:
        done = asyncio.Event()
        opened = 0

        async def opener() -> None:
            nonlocal opened
            while not done.is_set():
                if "open" in gate and not gate["open"].is_set():
                    gate["open"].set()
                    opened += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(opener())
        iterator = query.iter_batches()
        assert inspect.isasyncgen(iterator)
        ids = [n async for batch in iterator for n in batch.column("user.id").to_pylist()]
        done.set()
        await task
        assert opened == len(SIZES)
        return ids

    assert client.run(run()) == list(range(sum(SIZES)))


# -- iter_batches: arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"batch_size": True}, "batch_size must be a positive int"),
        ({"batch_size": "100"}, "batch_size must be a positive int"),
        ({"columns": "user.id"}, "columns must be a list"),
        ({"columns": ["user.id", 3]}, "columns must be a list"),
    ],
)
def test_bad_options_are_refused_at_once(
    client: ClientUnderTest, job: FakeJob, options: dict[str, Any], message: str
) -> None:
    query = client("offline_query", output=["user.name"])
    with pytest.raises(ChalkInputError, match=message):
        query.iter_batches(**options)
    assert job.polls == 0


def test_an_unknown_column_is_named_when_the_first_file_is_read(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    stepper = batches(client, columns=["user.id", "user.nope"], temp_dir=tmp_path)
    with pytest.raises(ChalkInputError, match=r"'user.nope'.*its columns are 'user.id', 'user.name'"):
        stepper.next()
    assert list(tmp_path.iterdir()) == []


# -- to_arrow_dataset and to_polars(lazy=True) ----------------------------------------------------


def test_to_arrow_dataset_reads_every_row_from_the_directory(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    import pyarrow.dataset as ds

    query = client("offline_query", output=["user.name"])
    dataset = client.run(query.to_arrow_dataset(tmp_path / "out"))
    assert isinstance(dataset, ds.Dataset)
    names = [f"{JOB}-0000{i}.parquet" for i in range(len(SIZES))]
    assert [Path(f).name for f in dataset.files] == names
    assert dataset.to_table().column("user.id").to_pylist() == list(range(sum(SIZES)))
    assert dataset.count_rows(filter=ds.field("user.id") >= 10) == sum(SIZES) - 10
    assert on_disk(tmp_path / "out") == names  # they stay, for the dataset to read


def test_to_arrow_dataset_is_all_or_nothing(client: ClientUnderTest, job: FakeJob, tmp_path: Path) -> None:
    job.storage_script = {2: [404]}
    query = client("offline_query", output=["user.name"])
    with pytest.raises(ChalkDownloadError, match="file 3 of 3"):
        client.run(query.to_arrow_dataset(tmp_path))
    assert on_disk(tmp_path) == []


def test_to_polars_lazy_scans_the_files_in_the_directory(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    import polars as pl

    query = client("offline_query", output=["user.name"])
    directory = tmp_path / "lazy [1]"  # a glob character in the name is only a name
    frame = client.run(query.to_polars(lazy=True, directory=directory))
    assert isinstance(frame, pl.LazyFrame)
    assert len(on_disk(directory)) == len(SIZES)
    collected = frame.filter(pl.col("user.id") % 2 == 0).collect()
    assert collected["user.id"].to_list() == list(range(0, sum(SIZES), 2))
    assert frame.collect().height == sum(SIZES)
    eager = client.run(query.to_polars())  # the default is unchanged: a DataFrame
    assert isinstance(eager, pl.DataFrame)
    assert eager["user.id"].to_list() == list(range(sum(SIZES)))


def test_to_polars_lazy_needs_a_directory_and_eager_takes_none(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path
) -> None:
    query = client("offline_query", output=["user.name"])
    with pytest.raises(ChalkInputError, match=re.escape("to_polars(lazy=True) needs directory=")):
        client.run(query.to_polars(lazy=True))
    with pytest.raises(ChalkInputError, match=re.escape("directory= goes with to_polars(lazy=True)")):
        client.run(query.to_polars(directory=tmp_path))
    assert job.polls == 0


def test_an_empty_result_is_an_empty_dataset_and_frame(
    client: ClientUnderTest, api: FakeChalkAPI, tmp_path: Path
) -> None:
    FakeJob(api, files=[])
    query = client("offline_query", output=["user.name"])
    dataset = client.run(query.to_arrow_dataset(tmp_path / "a"))
    assert dataset.to_table().num_rows == 0
    assert dataset.schema.names == ["user.id"]  # the job's columns, typed null
    frame = client.run(query.to_polars(lazy=True, directory=tmp_path / "b"))
    assert frame.collect().columns == ["user.id"]
    assert frame.collect().height == 0


def test_to_polars_lazy_needs_only_polars(
    client: ClientUnderTest, job: FakeJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = client("offline_query", output=["user.name"])
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    frame = client.run(query.to_polars(lazy=True, directory=tmp_path))
    monkeypatch.undo()
    assert frame.collect().height == sum(SIZES)


# -- the missing extras ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "call", "extra"),
    [
        ("pyarrow", lambda query, path: query.iter_batches(), "arrow"),
        ("pyarrow", lambda query, path: query.to_arrow_dataset(path), "arrow"),
        ("polars", lambda query, path: query.to_polars(lazy=True, directory=path), "polars"),
    ],
    ids=["iter_batches", "to_arrow_dataset", "to_polars(lazy=True)"],
)
def test_the_missing_extra_is_named_before_anything_is_sent(
    client: ClientUnderTest,
    job: FakeJob,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hidden: str,
    call: Callable[[Any, Path], Any],
    extra: str,
) -> None:
    query = client("offline_query", output=["user.name"])
    monkeypatch.setitem(sys.modules, hidden, None)  # import now raises ImportError
    with pytest.raises(ChalkMissingDependencyError) as caught:
        client.run(call(query, tmp_path))  # iter_batches() raises when called, before iterating
    assert f"pip install 'chalk-client[{extra}]'" in str(caught.value)
    assert hidden in str(caught.value)
    assert job.polls == 0
    assert on_disk(tmp_path) == []


def test_a_polars_without_glob_still_scans_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pl = pytest.importorskip("polars")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from chalk_client._api.tables import _scan_polars

    path = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"user.id": [1, 2]}), path)
    real = pl.scan_parquet
    seen: list[dict[str, object]] = []

    def old_scan(source: object, **options: object) -> object:  # polars 0.20.x: no glob=
        seen.append(options)
        if "glob" in options:
            raise TypeError("scan_parquet() got an unexpected keyword argument 'glob'")
        return real(source, **options)

    monkeypatch.setattr(pl, "scan_parquet", old_scan)
    assert _scan_polars([path], ["user.id"]).collect().to_dict(as_series=False) == {"user.id": [1, 2]}
    assert seen == [{"glob": False}, {}]
