"""A worker that dies right before any one of its writes: the next run leaves the index as an undisturbed run would.

The random SIGKILLs of the campaign rarely land in the short gap between a run's writes; here the
run stops exactly there (the process would die at that instant: nothing after it runs). Each is
compared with an undisturbed deployment fed the same two days of the same world.
"""

from __future__ import annotations

import uuid

import pytest
from campaign import IndexState, compare
from world_index import index_world

from adwatch.store import Store, connect
from demo.generator import generate_world
from enrich.worker import Worker


class Died(BaseException):
    """The process ends here (BaseException: nothing in the worker may catch it)."""


class DiesBeforeWrite(Worker):
    """A worker whose process dies right before its `at`-th bulk write of the run."""

    def __init__(self, *args, at: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.at, self.writes = at, 0

    def _write(self, actions):
        actions = list(actions)  # the worker hands some writes over as generators, made as sent
        if actions:
            self.writes += 1
            if self.writes == self.at:
                raise Died(f"before write {self.at}")
        return super()._write(actions)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("crash-world")
    generate_world(out, 120, 17)
    return out


@pytest.fixture(scope="module")
def deployment(es_settings):
    """`deployment()`: a fresh deployment on the session node, dropped with the module."""
    client = connect(es_settings)
    made = []

    def new() -> Store:
        store = Store(client, f"k{uuid.uuid4().hex[:10]}")
        store.ensure_schema()
        made.append(store)
        return store

    yield new
    for store in made:
        store.drop_deployment()
    client.close()


def two_days(store: Store, world, images, second_run: Worker) -> None:
    """Day 20 enriched and linked, then day 59's new ads by `second_run` (which may die)."""
    index_world(store, world, images, day=20)
    Worker(store, images).run()
    index_world(store, world, images, day=59)
    try:
        second_run.run()
    except Died:
        pass


@pytest.fixture(scope="module")
def undisturbed(deployment, world, tmp_path_factory) -> IndexState:
    images = tmp_path_factory.mktemp("crash-images")
    store = deployment()
    two_days(store, world, images, Worker(store, images))
    return IndexState.read(store)


# Writes of the second run: 1 enrichment, 2 the cluster documents, 3 the ads' links and cluster ids
# (marked linked), 4 the deletions of clusters merged away (none in this world: the state a death
# before it leaves is made by hand below). Dying before 2 (enriched, never linked) is
# tests/linking/test_worker.py's.
def test_a_worker_dead_between_its_cluster_and_ad_writes_is_finished_by_the_next_run(deployment, undisturbed, world,
                                                                                    tmp_path):
    images = tmp_path / "images"
    disturbed = deployment()
    dying = DiesBeforeWrite(disturbed, images, at=3)
    two_days(disturbed, world, images, dying)
    assert dying.writes == 3  # it did die there
    # Meanwhile no ad points at a cluster document that is not written.
    meanwhile = IndexState.read(disturbed)
    assert [cid for cid in meanwhile.cluster_of.values() if cid and cid not in meanwhile.clusters] == []
    Worker(disturbed, images).run()
    got = IndexState.read(disturbed)
    assert got.inconsistencies() == []
    verdict = compare(undisturbed, got)
    assert (verdict.lost, verdict.differing, verdict.clusters_differ) == ([], {}, 0)


def test_cluster_documents_no_ad_points_at_are_deleted_by_the_next_run_though_no_ad_is_owed(deployment, undisturbed,
                                                                                           world, tmp_path):
    """What a run that died after its ads' write and before its deletions leaves: clusters merged
    away still stored. Nothing is owed linking, yet the next run deletes them."""
    images = tmp_path / "images"
    disturbed = deployment()
    two_days(disturbed, world, images, Worker(disturbed, images))
    kept = next(iter(IndexState.read(disturbed).clusters))
    doc = disturbed.client.get(index=disturbed.clusters, id=kept)["_source"]
    disturbed.client.index(index=disturbed.clusters, id="merged-away", document=doc, refresh=True)
    report = Worker(disturbed, images).run()
    assert report.clusters_deleted == 1 and report.ads_updated == 0
    got = IndexState.read(disturbed)
    assert "merged-away" not in got.clusters and got.inconsistencies() == []
    verdict = compare(undisturbed, got)
    assert (verdict.lost, verdict.differing, verdict.clusters_differ) == ([], {}, 0)
