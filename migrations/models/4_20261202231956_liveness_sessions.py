"""Liveness sessions (issue 25): the `liveness_session` table, each challenge handed to a key until its one
check. A new table: no row is rewritten. Written by `aerich migrate`.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "liveness_session" (
    "id" UUID NOT NULL PRIMARY KEY,
    "key_id" UUID,
    "collection_id" UUID NOT NULL,
    "person_id" UUID,
    "challenges" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "checked_at" TIMESTAMPTZ
);
COMMENT ON TABLE "liveness_session" IS 'A liveness challenge handed to a key: checked once, by that key, before it expires.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "liveness_session";"""


MODELS_STATE = (
    "eJztnW1v2zgSgP8K4S+XAt6g68TZRXdxgJO412zTpEjcu9stCoGWaJu1TGopOo7R638/Ut"
    "a7KEVyLEdW+aGNTXIk+eHwZWZI6ltnQS1ku8cDB79H684b8K1D4AKJD6mcLuhAx4nSZQKH"
    "Y9srCh1szP1CY5czaHKRPIG2i0SShVyTYYdjSmThATChbSP2DxeYDFmIcAztY3BL7DXgMw"
    "RcJJK5yL1/N/ip1z8D2AUup6Lob7F8L3VGVwRQYqJjeWuLmuLemExrvcuS4L+XyOB0ikQ5"
    "Ju71+YtIxsRCj8gNvjpzY4KRbSWIYktewEs3+Nrx0j59urp865WUv2BsmNReLkhU2lnzGS"
    "Vh8eUSW8dSRuZNEUEMcmTFYJOlbfvVEiRtnlgkcLZE4aNaUYKFJnBpyyrr/D5ZElPWFPDu"
    "JP87/af/aLFihnFzOzLuhyPD6GRqWD5Cqjr8JJMSqR2YcAnq2/fNdSMgXmpH3uDi3eDu6O"
    "TslYeAunzKvEwPV+e7Jwg53Ih60CPK3t8M54sZZGrOQfkUafGg2zAOEiLIUTMI8AWAakDa"
    "WcBHw0Zkymfi68+vXxcw/vfgzsMsSnmcqWi3m/Z842f1NnmSd8R30zIMdwZFs6kCOiO4G+"
    "JPa/XeeJ+dlsB9dppLW2alYJtUXiND+Y/725scyqFECq+FTQ7+B2zs8gNU7AKwkoW88sJ1"
    "/7bjQI8+DP6bZn1xfXue7lTkBc5T4AVQG3k9YSX6KbFnVYGvxz9qDVCGp5hU6WAiif315Z"
    "3NpKGuITLdn5fqzgt683T/InpkCcSAPAv6UuRwvEA5mp6QTCu6L3ocfDjAHqcjfqAl54t+"
    "UyxAP7r6MLwfDT58TDSCy8FoKHN6Xuo6lXp0lqqm8CLgP1ejd0B+BX/d3gzTbSUsN/qrI5"
    "8JLjk1CF0Z0IqNfkFqQC1R6zZ0ubF0t6r3tOwOav5wOromVXTApLCmGXqg863qOSmpa7lp"
    "tSytzMk8ZgHJhDE05yvILCOTQ3s0r2w2a9FbpFMggVOvkiRN+ZyBe2BpYT4knKmdB1Fut9"
    "CBIMsZKCz4pBPhliCwYpgjQBl4QAxPsAll5huwmlFwNEfrV13xEXJwJObDzMvrAg6ZMNtd"
    "kQWJBYRhDzAHSCiglfUg1HML7T5ouPvgsGZEe7V12zshEm3ZqNa8IolnNLHDGRKfbFBJll"
    "V9cHEZ7Ycr54cLx5xKJnJcqIWk+2VA9/M59zOY/fG8ihMoJqJ9cM/wAIks+fwV1DuSaKFu"
    "n5TR7ZN83T7J6LaFOMR2FcCRxB5dbPtxrvVKddK9gk66t+mkG2KZXYSu6I7CMovldossMz"
    "NZrkR0d+rFXdeAToTl4wK6EgaTGHVcwb4rQ6uYCVkTuZ59JEOt3l3lpzWADAG0GCNLmEtg"
    "hfkMHEHAEYGEv1LFeGu9lzbVGjGzbGqkt0Fxx1rml/EnqzRCJMRaN0wIUiVhF9LO4PZ6pi"
    "qgQ4EWTnVqUWh5B39wyHK+IjwHc1IqBVs8/uHZ+eJxxZ+fej+f/nL668nZ6a+iiPecYcov"
    "BfSvbkYKsN4wWxFrKKOhZqEelh9SR2Z344hcOtaWtZ6U1LXelFpXBPC8p69gJUbqkdPLnv"
    "tib9/fITvPvecbfm/FJQ6w9r8H+h6kRloQ4flKx8+k8wcdtxVO7tSnCp+P3kXahKhOF4zX"
    "1hTOl6AN5rtdJkGJpxwu+QCedl98jmwIbHVE5ueYu8ePbm1KfNGejhf1dGz8VPK+GdjDIE"
    "tNPCGZAj9e881ocphtWcX4XBFaeBAKTZk2t/dsbo/po/FYwSIMy29lDTYO8I7NQUlnXZHm"
    "WtMsoLnCllD+akRDGU01h+oM4elMYbwWYo2ENFcFVwtxf07mmpQpQh5vbQpz8CpkU4wnUv"
    "jw/G0FBC9vP51fD8HHu+HF1f2VvzAhtPe9TJkkEjD3ENwNB9dK5pRVC31EMi2cJfTKxccL"
    "wuPpKYK4D2IGWiPDUcwUCrQ6LahVuoRKu0JxHYJchQugAHVCSnMuwXkNV+KZFaZaAeWYjG"
    "ZcgjGjtl0ZclxIUy5B2WTUMb46KsznmEC2zgtAxcR+HJ9DGGgQI9751c3g7s9w8WMI/vr2"
    "5l8qH8X5n6PhID06LuAUbbHPPi3XwqnI7jfa63BrPvrDDLyVCbcS9MiNyq7ApNRWzath48"
    "ge3IEetO392FnxLQeWhpHfhS/bY7ONwZoRbJ8u795ozYTIyga/MoK7jIM1V40rbB3bhKgr"
    "Yk0I1Yt0nyt8tyeaWVmSBqwwmihDeEreo82M/ko8CSSmyltYwzqAF6CaWQYgkpkwwYP4dl"
    "KpxAfxo9HGTLoY3F8MLoednD5hB2yTWzMOsyN4EnCmM1RDfpmtM3IVkGLZhr84KH/Vxle/"
    "QIldMvJBp4wuiQWEFDhiyJvcRHX/6o23pcVhVDZvtwvokpt0gTbnCqxm2JwBhhwbmxCwJX"
    "FFadUOmdruo3fHNKCr74L8NSNz8fuqTAaD8i10F+x+5+SE0UV1wzEp1ULQtViOwn6vTDou"
    "ozmXPNiTCxxVIIcCdRF+wR11vTJ8e/l4e1kt5lChwrnrIsLy+1sS8boutLteD0GJQk9zSQ"
    "bFNcg0SHeOHQcpZgkFx8tGIvs/2yI2LRsvsc0xcY/l/V5iZlbLiRc+XcF7SaososrIaV1P"
    "6zpirJpzNBRon1O0X2r60C+YPvQV5xGtBJAqgEOB9gHefXxyhiDjYwT5FhHKtKw+zLM5ew"
    "GzMUkxq2bbRaKTkjoS3ZRq1xt/f8RaVzT2zJ7MCSbYnW1V7SlR3ac3p5qzrVvHjPcV4dSR"
    "uFZF4q7xA5KLz+/Fv5yT7NJFukUROtsvbLix0iXCdYEcMGfyyDkyRWAG5aHegFMAwRyt34"
    "gsZM5FinxVWBeM5XvGIJdZ4guaCN3zTgJ/dLBQZlWorpZ76DBdA/qrblGYTh89vbP1Q3qY"
    "befSrHYqa9DLV3vBWEJKHy/9nFe86SX/LTO5yzha/MnRFrWelGxhrR9ILZezuDcT5W0ad0"
    "JS+1WaVssZ4/9lLFN/BbTCII3WRufbodFC7N2e8PU55QBBjxwxAm05B/uiDb8mGX76PdW7"
    "f/VCcqCPVL8C5pRY+2LTtcBeIA6lplcxZeIy+kXJz3lV9QNi3mHalb0eKUFtomsLUVuIOh"
    "TftlovE4o/FN/xwe9BbXSEtol7UZ8doNXnx7/Q+d8DxLA56yh8BH5Ot/Cl2FGZOk8Br+QG"
    "yF2Bruz6FMvOfQV/nvlf5wi3k2Xn+Va/mHG7yq4v3yKNibTR9u/3y5ij/X6+OSrzkhN32a"
    "gqEPaLt5BuLRsFxR05Uu1PKQhbRiI6ZlnR1n9Rh/f3/wMSatmn"
)
