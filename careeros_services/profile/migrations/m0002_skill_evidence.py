"""Why a skill was added or raised by the platform: the roadmap milestone and its evidence."""


def up(cur) -> None:
    cur.execute("""
        ALTER TABLE profiles ADD COLUMN skill_evidence jsonb NOT NULL DEFAULT '{}'::jsonb
            CHECK (jsonb_typeof(skill_evidence) = 'object');
    """)
