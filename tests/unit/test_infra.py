"""The local servers the platform needs are found (or started) with room for its connections."""
from careeros_services.common import infra


def test_servers_listen_and_postgres_has_room_for_every_process_pool(servers):
    assert all(infra.port_open(port) for port in infra.START_COMMANDS)
    assert infra.ensure_postgres_connections() >= infra.MIN_PG_CONNECTIONS
    assert int(infra._psql("SHOW max_connections")) >= infra.MIN_PG_CONNECTIONS
