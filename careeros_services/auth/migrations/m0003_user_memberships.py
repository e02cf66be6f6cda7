"""``auth_user_memberships(user)``: the tenants a user belongs to, across RLS.

``memberships`` is tenant-scoped (row-level security), but "which organisations am I in?"
is asked before a tenant is chosen. This SECURITY DEFINER function answers exactly that
question for one user id and returns nothing else (the same pattern as billing's id lookups).
"""


def up(cur) -> None:
    cur.execute("""
        CREATE FUNCTION auth_user_memberships(who uuid)
            RETURNS TABLE (tenant_id uuid, org_role text, joined_at timestamptz)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT m.tenant_id, m.org_role, m.created_at FROM memberships m WHERE m.user_id = who
            ORDER BY m.created_at, m.tenant_id
        $$;
    """)
