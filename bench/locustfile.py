"""People using the API: read their recommendations and signals, with think time between.

FastHttpUser (geventhttpclient) rather than HttpUser (requests): the load generator shares
the machine's two cores with the server, and requests' client costs several times more CPU
per request, which throttled the generator, not the server."""

from __future__ import annotations

import os

from locust import FastHttpUser, between, task


class Reader(FastHttpUser):
    wait_time = between(1, 3)
    default_headers = {
        "Authorization": f"Bearer {os.environ.get('SOAK_ACCESS_TOKEN', '')}",
        "X-Forwarded-Proto": "https",
    }

    @task(3)
    def recommendations(self) -> None:
        self.client.get("/api/v1/users/me/recommendations", name="recommendations")

    @task(2)
    def signals(self) -> None:
        self.client.get("/api/v1/users/me/signals", name="signals")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="health")
