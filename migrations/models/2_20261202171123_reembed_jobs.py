"""Background jobs and a model per collection (issue 23): the `job` table (reembedCollection's progress and
owner), and on `face` the next model's embedding that a job keeps beside the current one until it switches
the collection. New nullable columns and a new table: no row is rewritten. Written by `aerich migrate`.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "job" (
    "id" UUID NOT NULL PRIMARY KEY,
    "kind" VARCHAR(30) NOT NULL,
    "from_model" VARCHAR(100) NOT NULL,
    "to_model" VARCHAR(100) NOT NULL,
    "state" VARCHAR(12) NOT NULL,
    "total" INT NOT NULL,
    "done" INT NOT NULL,
    "skipped" JSONB NOT NULL,
    "skipped_count" INT NOT NULL,
    "error" VARCHAR(500),
    "owner" VARCHAR(64),
    "heartbeat_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "collection_id" UUID NOT NULL REFERENCES "collection" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_job_state_c9e4ce" ON "job" ("state");
COMMENT ON TABLE "job" IS 'A background job (reembedCollection): its progress, outcome, and which replica runs it.';
        ALTER TABLE "face" ADD "next_detector" VARCHAR(20);
        ALTER TABLE "face" ADD "next_embedding" vector;
        ALTER TABLE "face" ADD "next_model" VARCHAR(100);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "face" DROP COLUMN "next_detector";
        ALTER TABLE "face" DROP COLUMN "next_embedding";
        ALTER TABLE "face" DROP COLUMN "next_model";
        DROP TABLE IF EXISTS "job";"""


MODELS_STATE = (
    "eJztnVtv2zYUgP8K4ZelgBd0TpwN3TDASdzVa5sUibtbUQi0RNtsZNKjqDpG1/8+UtZdlC"
    "I5liOrfGkdkkekPx5ezjmk/KWzoBaynePBEr9G684L8KVD4AKJD6mcLujA5TJKlwkcTmyv"
    "KFxi484vNHE4gyYXyVNoO0gkWcgxGV5yTIksPAAmtG3EvnOAyZCFCMfQPgbXxF4DPkfAQS"
    "KZi9zbV4Pve/0zgB3gcCqK/hzL91LndEUAJSY6llVb1BR1YzKrtRaX4H9dZHA6Q6IcE3V9"
    "+CiSMbHQPXKCP5d3xhQj20oQxZZ8gJdu8PXSS3v/fnT50ispv8HEMKntLkhUernmc0rC4q"
    "6LrWMpI/NmiCAGObJisIlr2363BEmbFosEzlwUNtWKEiw0ha4tu6zzy9Qlpuwp4NUk/zn9"
    "1W9arJhhXF2Pjdvh2DA6mR6WTUh1h59kUiK1AxMuQX35unluBMRL7cgKLl4Nbo5Ozp55CK"
    "jDZ8zL9HB1vnqCkMONqAc9ouz9n+F8MYdMzTkonyItGroN4yAhghwNgwBfAKgGpJ0FvDds"
    "RGZ8Lv784fnzAsZ/DG48zKKUx5mKcbsZz1d+Vm+TJ3lHfDcjw3DmUAybKqAzgrsh/rBW74"
    "332WkJ3GenubRlVgq2SeUzMpR/v72+yqEcSqTwWtjk4D9gY4cfoGIXgJUs5JMXjvOvHQd6"
    "9HbwV5r1xZvr8/SkIh9wngIvgNrImwkr0U+JPaoLfD3+VnuAMjzDpMoEE0nsby7vbDYNdS"
    "2R6fm81HReMJun5xcxI0sgBuRZ0Jcih+MFytH0hGRa0X3R4+DDAc44HfEFLblf9IdiAfrx"
    "6O3wdjx4+y4xCC4H46HM6Xmp61Tq0Vmqm8KHgD9H41dA/gn+ub4apsdKWG78T0e2CbqcGo"
    "SuDGjFVr8gNaCW6HUbOtxwna36PS27g54/nImuSR0dMCnsaYY+07ut+jkpqXu5ab0srczp"
    "XcwCkgkTaN6tILOMTA7t0byy2axFb5FOgQTOvE6SNGU7A/eAa2E+JJypnQdRbrfQgSDLGS"
    "gs+KAT4ZogsGKYI0AZ+IwYnmITyswXYDWn4OgOrZ91xUfIwZHYDzMvrws4ZMJsd0QWJBYQ"
    "hj3AHCChgFbWg1BPFdp90HD3wWHtiPZq67Z3QyTGslFteEUSjxhih7MkPjigkiyr+uDiMt"
    "oPV84PF645lUzkuFALSffLgO7nc+5nMPvreRUnUExE++Ae4QESWbL9FdQ7kmihbp+U0e2T"
    "fN0+yei2hTjEdhXAkcQeXWz7ca71Sk3SvYJJureZpBtimV2EruiOwjKL5XaLLDMzWa5EdH"
    "fmxV3XgE6F5eMAuhIGk1h1HMG+K0OrmAlZEzmefSRDrV6t8tMaQIYAWkyQJcwlsMJ8Do4g"
    "4IhAwp+pYry11qVNtUbsLJsa6W1Q3LGW/WW8ZZVWiIRY65YJQaok7ELaGdzezFQFdCjQwq"
    "1OLQota/AXhyznEeE5mJNSKdii+Ydn54vmiv++7/1w+uPpTydnpz+JIl47w5QfC+iPrsYK"
    "sN4yWxFrKKOhZqEelh9SR2Z344h0l9aWvZ6U1L3elF5XBPC81lewEiP1yJllz32xl69vkJ"
    "3n3vMNv5fiEQfY+18DfQ9SIy2I8Hyik0fS+Z1O2gond+tThc877yFtQlSnC8YbawrnSzAG"
    "890u06DEQw6XfAAPuy8+RDYEtjoi80PM3eNHtzYlPmpPx5N6OjZ+KllvBvYwyFITT0imwE"
    "/WfLOaHOZYVjE+V4QWPguFpkyb23s2tyf03rivYBGG5beyBhsHeMfmoKSzrkhzrWkW0Fxh"
    "Syh/NaKhjKaaQ3WO8GyuMF4LsUZCmquCq4W4vydzTMoUIY+XNoU5eBWyKcZTKXx4/rYCgp"
    "fX78/fDMG7m+HF6HbkH0wI7X0vUyaJBMw9BDfDwRslc8qqhT4imRbuEnrl4uMF4fH0FkHU"
    "g5iB1shYKnYKBVqdFtQqXUKlHaG4S4IchQugAHVCSnMuwXkNV6LNClOtgHJMRjMuwZhR26"
    "4MOS6kKZegbDK6ND4tVZjPMYFsnReAiol9Oz6HMNAgVrzz0dXg5u/w8GMI/s311W8qH8X5"
    "3+PhIL06LuAMbXHPPi3Xwq3I7i/a63BrPvrDDLyVCbcSdM+Nyq7ApNRWw6th68ge3IEetO"
    "392FnxLReWhpHfhS/bY7ONwZoRbJ8u795ozYTIyga/MoK7jIM1V40rXB3bhKgrYk0I1Yt0"
    "nyd8tyeaOVmSBqwwmihDeEZeo82OfiRaAomp8hbWcA7gCahmjgGIZCZM8CC+nVQq8UF8ab"
    "Qxky4GtxeDy2EnZ07YAdvk1YzDnAgeBJyZDNWQn+bqjDwFpDi24R8Oyj+18ckvUOKWjGzo"
    "jFGXWEBIgSOGvM1N1PfPXnhXWpaMyuHtdAF1uUkXaPNegdUcm3PA0NLGJgTMJY4orbohU1"
    "s9+nZMA6b6Lsg/M3Invl+VzWBQvoXugt3fnJwyuqhuOCalWgi6FstR2O+VScdlNOeSL/bk"
    "AkcVyKFAXYSf8EZdrwzfXj7eXlaLOVSocO65iLD8/o5EPK8L7a7PQ1Ci0NNckkFxDTIN0r"
    "nDyyVS7BIKXi8biez/3RaxbdnExTbHxDmW9T3FzqyWN174dAVvl1Q5RJWR07qe1nXEWDXn"
    "aCjQPqdov9T2oV+wfegr3ke0EkCqAA4F2gd49/HJOYKMTxDkW0Qo07L6ZZ7NuQuYjUmKXT"
    "XbLhKdlNSR6KZ0u774+y32umKwZ+5kTjHBznyrbk+J6jm9Od2cHd06ZryvCKeOxLUqEufH"
    "mRXBuCgCnR+Pi8Ldu71H/SGlZuieI0agLQF+1FGwJkXB9K+B7f4Flwm3Skz1K2BOibXPA1"
    "AL7AXiUGp6FYdtXEb/HNUjfhBMHxBvmYGmzfJvsdfLmOWHYq4d/HnURltrTTyX+mhjTb9L"
    "7oneBTZADJvzjsKS9XO6hT+QFZWp841glYzV3Gi0cupThKB9BX+ckVrnCreTEHS+bfoZMa"
    "fi27VjIm20UPv9MkZTv59vNMm85MZdDqoKhP3iLaRby6FBUSNHqrMqRb+RHIron8epaJFm"
    "9lL7dMt+/R9EhLcE"
)
