from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from posada_sim_qloapps import DEV_API_KEY, SimServer, running_server
from posada_sim_qloapps.testing import basic_auth_header


@pytest.fixture
async def sim(tmp_path) -> AsyncIterator[SimServer]:
    async with running_server(db_path=tmp_path / "qloapps.sqlite3") as server:
        yield server


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=sim.base_url + "/",
        headers=basic_auth_header(DEV_API_KEY),
        timeout=aiohttp.ClientTimeout(total=10),
    ) as session:
        yield session
