"""What the relay remembers about the broker: the cluster id it last published to.

A memory-only broker (the embedded one) forgets every message when it restarts;
a changed cluster id tells the relay to publish the rows it already sent again.
"""


def up(cur) -> None:
    cur.execute("""
        CREATE TABLE relay_state (
            name   text PRIMARY KEY,
            value  text NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now()
        );
    """)
