"""Offline queries of :class:`~chalk_client.testing.ChalkServer`: jobs, their datasets, their parquet files.

Endpoints (API address only; each wants a bearer token and checks the routing headers, as every call
but the token exchange does):

- ``POST /v4/offline_query``: submit a job; answers a ``DatasetResponse`` whose one revision is the
  job (``revision_id`` is the job id, a random UUID, as the real service's; so is ``dataset_id``).
- ``POST /v4/offline_query/status`` with ``{"job_id": ...}``: ``is_finished``, ``urls``, ``errors``,
  ``columns``, and ``version`` 6 (the files' format, as chalkpy reads it: not the dataset's version).
- ``GET /v4/offline_query/{job_id}/status``: the progress report ``{"report": {...}}``.
- ``POST /v4/offline_query/{job_id}/cancel``: cancel, then the report.
- ``GET /v2/offline_query/{revision_id}`` and ``GET /v4/offline_query/{revision_id}``: the
  ``DatasetResponse`` again, with that revision alone (chalkpy's ``Dataset`` reads the last one).
- ``GET /v3/offline_query/{dataset_name_or_id}``: a dataset with every revision kept, oldest first
  (the newest last); found by its id in any environment, else by its name in the request's
  environment (``X-Chalk-Env-Id``, else the primary one).

An unknown job id, or a dataset neither id nor name finds, is a 404 ``VALIDATION_FAILED``.

**Revisions.** Each revision carries what chalkpy requires of one: ``revision_id``, ``status``,
``outputs``, ``created_at``, ``started_at``, ``terminated_at``, ``num_rows``, ``output_uris`` (a
string: the storage prefix of the job's files, ``{server.url}/_storage/{job_id}/``, not signed: the
signed URLs come from the status call), ``output_version`` (6: parquet with native column names),
``environment_id``, ``creator_id`` (the client id that submitted it), ``dataset_name``,
``dataset_id``, ``filters`` (``{"sample_filters": {"lower_bound", "upper_bound", "max_samples"},
"max_cache_age_secs": null}``, the observed-at bounds as sent), ``num_partitions`` (its parquet
files: 0 until it has succeeded), ``branch``, ``query_has_errors`` (whether it failed),
``dashboard_url`` (null) and ``errors``. A ``DatasetResponse``'s ``is_finished``, ``version``,
``environment_id``, ``dataset_id``, ``dataset_name`` and ``errors`` are its newest revision's.

**Timing.** Nothing runs in the background: a job's state derives from the server clock. A job takes
``offline_duration`` seconds (fixed at submission; changing the server's value affects later jobs):

======================  ==================  =================  =========================================
state                   report ``status``   revision status    when
======================  ==================  =================  =========================================
submitted               ``INIT``            2                  no time has passed since submission
running                 ``COMPUTE_STARTED`` 3                  ``0 < elapsed < duration``
successful              ``COMPLETED``       7                  ``elapsed >= duration``, no error
error                   ``FAILED``          4                  ``elapsed >= duration``, an error
cancelled               ``CANCELLED``       6                  cancelled before it finished
======================  ==================  =================  =========================================

While running, ``progress`` is ``elapsed / duration`` and ``num_rows`` that fraction of the rows the
job will look at (the input's rows, or the 1,000 seeded users, capped by ``max_samples``). With a
duration of 0 a job is successful as soon as it is submitted. Cancelling a finished job changes
nothing. A cancelled job keeps the progress it had; its status call answers ``is_finished`` with one
``CANCELLED`` error.

**Errors.** A job fails at the end of its duration (never at submission) when ``output``,
``required_output`` or the input's columns name a feature that is not in
:data:`~chalk_client.testing.FEATURE_TYPES` (one ``RESOLVER_NOT_FOUND`` error per such feature, with
``feature`` set), or when an input has no ``user.id`` column (``INVALID_QUERY``). The status call then
answers ``is_finished`` with those errors, the report's ``error`` is the first one, and the dataset's
``errors`` (and its revision's) list them. A malformed request is a 400 at once, with the shared error
body: ``INVALID_QUERY`` for what the query asks for (``output`` a non-empty list of strings,
``required_output`` a list of strings, ``input`` ``{columns, values}`` column-major with as many
columns as value lists, all of one length, no column twice, ``user.id`` values integers or strings of
digits, values of a known feature of its type or null, ``max_samples`` a positive integer);
``PARSE_FAILED`` for a date-time that is not ISO 8601 with an offset (``observed_at_*_bound``, the
``__ts__`` input column); ``VALIDATION_FAILED`` for the other fields of a wrong type, a lower bound
not before the upper one, or a ``destination_format`` other than ``PARQUET``. Without pyarrow, which
writes the results, every submission is a 501 ``INTERNAL_SERVER_ERROR`` naming the ``testing`` extra
(clients do not retry a 501), so no job is recorded that could never finish.

**Results.** Computed once, when the job is first seen successful (by any call, or by
``server.offline_jobs``), from the feature values as they are then:

- With an input: one row per input row, in order, keyed by its ``user.id``; the input's columns come
  first, in the input's order, with the input's values; then the requested features that are not
  already there (``output``, then ``required_output``, each once).
- Without an input: one row per seeded user, ``1..1000`` in id order, and only the requested
  features. Uploaded ids outside the seeded range are not rows (pass them as an input to read them).
- A feature's value is the uploaded one if there is one, else the seeded one; an unknown user id,
  a value deleted from the offline store (a deletion without ``retain_offline``:
  :mod:`chalk_client.testing._uploads`) and the failing credit-score resolver
  (:data:`~chalk_client.testing.FAILING_USER_ID`) give null.
- Rows with a null in any ``required_output`` feature are dropped; then ``max_samples`` keeps the
  first rows.
- Columns are named by feature (``user.id``, ``user.credit_score``), typed by their feature
  (``int`` as int64, ``str`` as string, all nullable); an input column ``__ts__`` is
  ``timestamp[us, tz=UTC]``. ``observed_at_*_bound`` are checked but change nothing: the seeded
  graph has no history.
- The rows are written as parquet files of at most ``offline_rows_per_file`` rows each
  (``part-00000.parquet``, ...), at least one file (a job with no rows has one empty file).

**Files.** The status call gives freshly signed URLs on the API address that need no token (under
the revision's ``output_uris``)::

    {server.url}/_storage/{job_id}/part-00000.parquet?expires={unix seconds}&signature={hex}

``signature`` is the HMAC-SHA256 of ``f"{path}\\n{expires}"`` under a random per-server key, and
``expires`` is ``ceil(now + offline_url_lifetime)`` by the server clock; a URL is good while the
clock is before ``expires``. A URL that has expired, or whose signature does not match, is a 403
with a short XML body, as a storage bucket answers; a good URL for a forgotten job is a 404. A file
is served as ``application/octet-stream`` with ``Content-Length``, in 64 KiB chunks.

**Datasets.** A job with a ``dataset_name`` joins the dataset of that name in its environment (the
first one creates it): same ``dataset_id``, ``version`` one more than the last (1-based). A job
without one gets a dataset of its own, version 1. Of the jobs kept (the newest 10,000), a dataset
lists those that joined it.

The modules of this package, one concern each:

- ``_query``: a submission read and checked (the 400s), and the errors its job will fail with.
- ``_jobs``: a job's state and progress by the server clock, and its record
  (:class:`~chalk_client.testing.OfflineJobRecord`).
- ``_results``: a successful job's rows, written as parquet files.
- ``_service``: the endpoints, the datasets, and the signed file URLs and their downloads.
"""
