"""Collections: many galleries on one server (issue 23).

A `collection` table; every person and face gets a `collection_id`, and everything
stored so far goes into the collection `default`; a person's externalId is unique
within its collection instead of on the whole server; an API key may be bound to
collections. Adding a NOT NULL column with a constant default rewrites no row
(PostgreSQL 11+), so this is quick on a large gallery; checking the new foreign keys
reads each table once. Written by hand beside `aerich migrate`'s model state.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "collection" (
    "id" UUID NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "description" VARCHAR(1000) NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "max_persons" INT,
    "max_faces" INT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "collection" IS 'A gallery of its own: persons, their faces and the model they are embedded with (a tenant).';
-- Every existing person and face goes into the default collection, pinned to the model most faces have
-- (the server re-pins it to the one it loads at start).
INSERT INTO "collection" ("id", "name", "description", "model", "created_at", "updated_at")
    SELECT '00000000-0000-4000-8000-000000000001', 'default', '', COALESCE((SELECT "model" FROM "face" GROUP BY "model" ORDER BY count(*) DESC LIMIT 1), ''), now(), now()
    ON CONFLICT DO NOTHING;
ALTER TABLE "person" ADD "collection_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES "collection" ("id") ON DELETE CASCADE;
ALTER TABLE "person" ALTER COLUMN "collection_id" DROP DEFAULT;
ALTER TABLE "person" DROP CONSTRAINT IF EXISTS "person_external_id_key";
ALTER TABLE "person" ADD CONSTRAINT "uid_person_collect_b1b8dc" UNIQUE ("collection_id", "external_id");
CREATE INDEX IF NOT EXISTS "idx_person_collect_692bb7" ON "person" ("collection_id");
ALTER TABLE "face" ADD "collection_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES "collection" ("id") ON DELETE CASCADE;
ALTER TABLE "face" ALTER COLUMN "collection_id" DROP DEFAULT;
CREATE INDEX IF NOT EXISTS "idx_face_collect_f875b1" ON "face" ("collection_id", "model");
ALTER TABLE "api_key" ADD "collections" JSONB;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "api_key" DROP COLUMN "collections";
DROP INDEX IF EXISTS "idx_face_collect_f875b1";
ALTER TABLE "face" DROP COLUMN "collection_id";
ALTER TABLE "person" DROP CONSTRAINT "uid_person_collect_b1b8dc";
ALTER TABLE "person" DROP COLUMN "collection_id";
ALTER TABLE "person" ADD CONSTRAINT "person_external_id_key" UNIQUE ("external_id");
DROP TABLE "collection";"""


MODELS_STATE = (
    "eJztnG1vGjkQgP+KtV8ulWjUkpBWvdNJQMiVaxqqhN5dG1UrZ9eAL4tNvSYE9fLfz/a+v2"
    "aXAFnofknI2LN2Ho9fZsbsD21KTWTZh+0Z/oCW2jvwQyNwisSHWEkDaHA2C+RSwOGNparC"
    "GdZv3Uo3NmfQ4EI8gpaNhMhEtsHwjGNKZOU2MKBlIfaLDQyGTEQ4htYhGBBrCfgEARsJMR"
    "elV+/bL5utE4BtYHMqqv4aKlfSCV0QQImBDmXTJjVE25iMN9rKnODvc6RzOkaiHhNtXX8T"
    "YkxMdI9s78/ZrT7CyDIjRLEpH6DkOl/OlOzz5/7pmaop/4Mb3aDWfEqC2rMln1DiV5/PsX"
    "kodWTZGBHEIEdmCDaZW5Y7LJ7I6bEQcDZHflfNQGCiEZxbcsi030ZzYsiRAqol+eP4d7dr"
    "oWq6fjEY6le9oa5riRGWXYgNhysyKJHWgQmXoH48OM8NgCipJhvovm9fHhydvFAIqM3HTB"
    "UqXNqDUoQcOqoKekBZ/U5w7k4gS+fs1Y+RFh1dhbEnCCAH08DD5wHaAFJtCu91C5Exn4g/"
    "X796lcP4r/alwixqKc5UzFtnPl+4RU2nTPIO+DozQ7cnUEybMqATiush/rhVb433yXEB3C"
    "fHmbRlUQy2QeUzEpT/vBpcZFD2NWJ4TWxw8B+wsM130LBzwEoW8slT2/5uhYEefGz/E2fd"
    "PR904ouKfEAnBl4AtZBaCUvRj6k9aQhcO/5ZR4AyPMakzAITaGxvLdecQ8Omtsj4el5oOc"
    "9ZzePri1iRJRAd8iToU1HC8RRlWHpEM27oruqh92EHVxxN/IOmPC+6UzEH/bD/sXc1bH/8"
    "FJkEp+1hT5Y0lXQZkx6cxIbJfwj4uz98D+Sf4OvgohefK3694VdN9gnOOdUJXejQDO1+nt"
    "SjFhl1C9pcn9srjXtcdw0jvzsLXZUG2mOSO9IM3dHblcY5qlmPctVGWXqZo9uQByQFN9C4"
    "XUBm6okS2qRZdZNF0+Y0LoEEjtUgSZqyn154YG5i3iOcpQcPgtJGbgBB1tORX/HRIMKAIL"
    "BgmCNAGbhDDI+wAWXhO7CYUHBwi5YvGuIj5OBAnIeZKmsADplw221RBIkJhGMPMAdIGKCZ"
    "jCBspok6fFDx8MFunYi26uvu74FIzGW93PQKNJ4wxXZnS3x0QkVZlo3BhXXqOFyxOJy/55"
    "RykcNKe0i6VQR0K5tzK4HZ3c/LBIFCKnUM7gkRIFEk+1/CvAONPbTtoyK2fZRt20cJ2zYR"
    "h9gqAzjQ2GKIbTvBtWahRbqZs0g3nUW6Ip5Z1w9FaymeWai0keeZGdF6BbK7Y5V3XQI6Ep"
    "6PDehCOExi17EF+4ZMrWImdA1kK/9IplpVq/LTEkCGAJreIFO4S2CB+QQcQMARgYS/SMvx"
    "brSt2lWrxMmyqpneCuUdN3K+DPes1A4RUdu7bUKQKgg7l3YCt1qZyoD2FfbwqLMRg5YtuJ"
    "tDknOf8AzMUa0YbNH93fPzRXfFr5fN18dvjt8enRy/FVVUP33Jmxz6/YthCli1zZbE6uvU"
    "UJNQdysOWWdm1xOInM/MFUc9qlmPelVGPSWBp3pfwksMzCNjle24amcfLpGVFd5zHb8z8Y"
    "gdHP0Hz949aWAFAZ7M3b0MoE/qIfuEaJNRBmVOKfEFz8yyIwsjr8ZjMYVsAI976NfBMVl4"
    "2aLwOhTRcBM4To1vtTP/rM68E4qR7SZg97yidOIRzRj4myV3FszdnMtpjDsp0fM7YdCU1R"
    "7llj3KG3qv35dwevz6Kzk8lQO8Zo9H0lmWpLmsaebQXGBTGH85or5OTTWD6gTh8STFP8vF"
    "GijVXFO4moi7ZzLboCwlqn9mUZiBN0U3xngklXcvpJRD8HTwuXPeA58ue93+Vd/NvfsurS"
    "qUIiHAXCG47LXPU5lTVjL/6+vs4SmhWSwFnJMBjh8RRDuI6WiJ9FnKSSHHquOKtUkXMGlb"
    "GO6MIDslBJCDOqJVcy7AeQkXos8prloO5ZBOzbgAY0YtqzTksFJNuQBlg9GZ/u8sDXMHE8"
    "iWWTmWkNrPE3PwY+lix+v0L9qXX/z7fT7488HFH2kxis6XYa8d3x2ncIxW+Cp5XG8PjyLr"
    "/y55nVHMRr+buaUiGcVEuLtoIDuhuM6YdnWXuhLfdHDSTSWxRpQ2i3SbF9JWJ5pIhMYBpx"
    "yAhJuPx+QDcnbnvugJJEaa57+BnN4zUE2k9ISYieO0l6uKGpX4IP5p5Bx5uu2rbvu0p2Ws"
    "CWtgG71JvJsLwaOAE4thOuTnuentWndKFjaw++w8bDDJ1puJvY6ZGbrniBFoSYDf6ovUVc"
    "q91q/MWv+3QMLrbdj0S2COqa1Eu2Le/BZgTxGH0tKTpLO/sRfWqd/Z9IS3ZtUu5k/oYtaX"
    "Vvdt1LMure5iYGHnveBKe2tV9Iaf7KzVF66f6TZxGzFsTLS0N0k5JY3ct0gFdTZ5p7iUs5"
    "p5KSh16Uu5DOQa+NOc1MrfBMr2Te8Qs0t+BTWkso8eaqtVxGlqtbKdJlkWPbjLSVWCsFt9"
    "D+lu5J6waJEjknI6znuRsK9Sv0OmpEf6rC/gePgfD/AviQ=="
)
