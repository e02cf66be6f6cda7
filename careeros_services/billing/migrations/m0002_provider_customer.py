"""The provider's customer a subscription's payment method is saved on (Stripe: ``cus_...``),
needed to charge it again off-session at renewal."""


def up(cur) -> None:
    cur.execute("ALTER TABLE subscriptions ADD COLUMN provider_customer text NOT NULL DEFAULT ''")
