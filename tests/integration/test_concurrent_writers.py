"""Twenty writers append to the same infusion day at once: each sequence number is taken exactly
once, no event is lost or duplicated, and the losers get 409."""

from __future__ import annotations

import threading
from collections import Counter

from api_support import ClientFactory, Role, vital_signs

WRITERS = 20
EVENTS_EACH = 2


def test_twenty_concurrent_writers_take_every_sequence_number_exactly_once(
    client_as: ClientFactory, course_id: int
) -> None:
    url = f"/courses/{course_id}/days/1/events"
    clients = [client_as(Role.NURSE if i % 2 else Role.PHYSICIAN) for i in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    written: list[tuple[int, int]] = []  # (writer, seq) acknowledged with 201
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def writer(index: int) -> None:
        client = clients[index]
        start.wait()
        mine = 0
        while mine < EVENTS_EACH:
            seen = len(client.get(url).json())
            # The event's time follows its sequence number, so the record only grows forward.
            response = client.post(url, json={"expected_seq": seen + 1,
                                              "event": vital_signs(seen, heart_rate=60 + index)})
            with lock:
                statuses[response.status_code] += 1
                if response.status_code == 201:
                    written.append((index, response.json()["seq"]))
                    mine += 1
                else:
                    assert response.status_code == 409, response.text
                    assert response.json()["error"]["code"] == "EVENT-SEQ-STALE"

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    stored = clients[0].get(url).json()
    assert [e["seq"] for e in stored] == list(range(1, WRITERS * EVENTS_EACH + 1))
    assert sorted(seq for _, seq in written) == [e["seq"] for e in stored]
    by_seq = {e["seq"]: e["payload"]["heart_rate_bpm"] for e in stored}
    assert all(by_seq[seq] == 60 + index for index, seq in written)
    assert statuses[201] == WRITERS * EVENTS_EACH
    assert statuses[409] > 0, "twenty writers at once must produce some stale sequence numbers"
