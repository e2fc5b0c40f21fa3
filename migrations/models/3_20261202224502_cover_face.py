"""A cover face per person (issue 24): `person.cover_face_id`, the face the console shows for the person. A new
nullable column without a foreign key (face already references person): no row is rewritten. Written by
`aerich migrate`.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "person" ADD "cover_face_id" UUID;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "person" DROP COLUMN "cover_face_id";"""


MODELS_STATE = (
    "eJztnVtv2zYUgP8K4ZelgBd0TpwN3TDASdzVa5sUibtbUQi0RNtsZNKjqDpG1/8+Utb9Ft"
    "GxHFnlS+uQPCL98fByziHlL50FtZDtHA+W+DVad16ALx0CF0h8SOV0QQcul1G6TOBwYntF"
    "4RIbd36hicMZNLlInkLbQSLJQo7J8JJjSmThATChbSP2nQNMhixEOIb2Mbgm9hrwOQIOEs"
    "lc5N6+Gnzf658B7ACHU1H051i+lzqnKwIoMdGxrNqipqgbk1mttbgE/+sig9MZEuWYqOvD"
    "R5GMiYXukRP8ubwzphjZVoIotuQDvHSDr5de2vv3o8uXXkn5DSaGSW13QaLSyzWfUxIWd1"
    "1sHUsZmTdDBDHIkRWDTVzb9rslSNq0WCRw5qKwqVaUYKEpdG3ZZZ1fpi4xZU8Bryb5z+mv"
    "ftNixQzj6nps3A7HhtHJ9LBsQqo7/CSTEqkdmHAJ6svXzXMjIF5qR1Zw8Wpwc3Ry9sxDQB"
    "0+Y16mh6vz1ROEHG5EPegRZe//DOeLOWT5nIPyKdKiodswDhIiyNEwCPAFgGpA2lnAe8NG"
    "ZMbn4s8fnj8vYfzH4MbDLEp5nKkYt5vxfOVn9TZ5knfEdzMyDGcOxbBRAZ0R3A3xh7V6b7"
    "zPTivgPjstpC2zUrBNKp+Rofz77fVVAeVQIoXXwiYH/wEbO/wAFbsErGQhn7xwnH/tONCj"
    "t4O/0qwv3lyfpycV+YDzFHgB1EbeTKhEPyX2qC7w9fhb7QHK8AwTlQkmktjfXN7ZbBrqWi"
    "LT83ml6bxkNk/PL2JGlkAMyLOgL0UOxwtUoOkJybSi+6LHwYcDnHE64gtacr/oD8US9OPR"
    "2+HtePD2XWIQXA7GQ5nT81LXqdSjs1Q3hQ8Bf47Gr4D8E/xzfTVMj5Ww3PifjmwTdDk1CF"
    "0Z0IqtfkFqQC3R6zZ0uOE6W/V7WnYHPX84E12TOjpgUtrTDH2md1v1c1JS93LTellamdO7"
    "mAUkEybQvFtBZhmZHNqjRWWzWYveIp0CCZx5nSRpynYG7gHXwnxIOMt3HkS53VIHgixnoL"
    "Dgg06Ea4LAimGOAGXgM2J4ik0oM1+A1ZyCozu0ftYVHyEHR2I/zLy8LuCQCbPdEVmQWEAY"
    "9gBzgIQCWlkPQj1VaPdBw90Hh7Uj2qut294NkRjLhtrwiiQeMcQOZ0l8cEAlWar64OIy2g"
    "9XzQ8XrjlKJnJcqIWk+1VA94s59zOY/fVcxQkUE9E+uEd4gESWbL+CekcSLdTtkyq6fVKs"
    "2ycZ3bYQh9hWARxJ7NHFth/nWq/SJN0rmaR7m0m6IZbZReiK7uRYZrHcbpllZibLVYjuzr"
    "y46xrQqbB8HEBXwmASq44j2HdlaBUzIWsix7OPZKjVq1V+WgPIEECLCbKEuQRWmM/BEQQc"
    "EUj4s7wYb611aVOtETvLpkZ6GxR3rGV/GW+Z0gqREGvdMiFIVYRdSjuD25uZVECHAi3c6t"
    "Si0LIGf3HIch4RXoA5KZWCLZp/eHa+aK747/veD6c/nv50cnb6kyjitTNM+bGE/uhqnAPW"
    "W2YVsYYyGmoW6mH5IXVkdjeOSHdpbdnrSUnd603p9ZwAntd6BSsxUo+CWfbcF3v5+gbZRe"
    "493/B7KR5xgL3/NdD3IDXSggjPJzp5JJ3f6aStcAq3Pip83nkPaROiOl0w3ljLcb4EY7DY"
    "7TINSjzkcCkG8LD74kNkQ2CrIzI/xNw9fnRrU+Kj9nQ8qadj46eS9WZgD4OsfOIJyRT4yZ"
    "pvVpPDHMt5jM9zQgufhUJTps3tPZvbE3pv3CtYhGH5razBxgHesTko6awVaa41zRKaK2wJ"
    "5VcjGspoqgVU5wjP5jnGaynWSEhzzeFqIe7vyRyTspyQx0ubwgK8ObIpxlMpfHj+thKCl9"
    "fvz98Mwbub4cXoduQfTAjtfS9TJokEzD0EN8PBm1zmlKmFPiKZFu4SetXi4yXh8fQWQdSD"
    "mIHWyFjm7BRKtDotqFW6gko7QnGXBDk5LoAS1AkpzbkC5zVciTbnmGollGMymnEFxozatj"
    "LkuJCmXIGyyejS+LTMw3yOCWTrogBUTOzb8TmEgQax4p2PrgY3f4eHH0Pwb66vfsvzUZz/"
    "PR4O0qvjAs7QFvfs03It3Irs/qK9DrcWoz/MwFuVcCtB99xQdgUmpbYaXg1bR/bgDvSgbe"
    "/HzopvubA0jPwufNkem20M1oxg+3R590ZrJkRWNfiVEdxlHKy5aqxwdWwTolbEmhCqF+k+"
    "T/huTzRzsiQNOMdoogzhGXmNNjv6kWgJJGaet7CGcwBPQDVzDEAkM2GCB/HtpFKJD+JLo4"
    "2ZdDG4vRhcDjsFc8IO2CavZhzmRPAg4MxkmA/5aa7OyFNAOcc2/MNBxac2PvkFKtySkQ2d"
    "MeoSCwgpcMSQt7mJ+v7ZC+9Ky5JRObydLqAuN+kCbd4rsJpjcw4YWtrYhIC5xBGl827I1F"
    "aPvh3TgKm+C4rPjNyJ76eyGQzKt9BdsPubk1NGF+qGY1KqhaBrsRyF/a5MOi6jOVd8sScX"
    "OFQghwJ1EX7CG3W9Knx7xXh7WS3mMEeFC89FhOX3dyTieV1od30egpIcPS0kGRTXINMgnT"
    "u8XKKcXULJ62Ujkf2/2yK2LZu42OaYOMeyvqfYmdXyxgufruDtEpVDVBk5retpXUeMqTlH"
    "Q4H2OUX7lbYP/ZLtQz/nfUQrAUQFcCjQPsC7j0/OEWR8giDfIkKZltUv82zOXcBsTFLsqt"
    "l2keikpI5EN6Xb9cXfb7HXcwZ75k7mFBPszLfq9pSontOb083Z0a1jxvuKcOpIXKsicX6c"
    "OScYF0Wgi+NxUbh7t/eoP6TUDN1zxAi0JcCPOgrWpCiY/jWw3b/gMuFWiam+AuaUWPs8AL"
    "XAXiAOpaarOGzjMvrnqB7zg2CfEfNeWaa8hUsJ6hfG66P37TZ9tcPjW+z1Kg6PQzGED/6k"
    "b6Pt4Cae+H20Gazf0vdEb1kbIIbNeSfHR+DndEt/eiwqU+e71pTcAIVx/typLye47yv448"
    "z/Ole4nQT3i61+seN2FN9bHhNpo+3f71cxR/v9YnNU5iU37nJQKRD2i7eQbi3HMUWNHOWd"
    "Air79elQRP/wkKKtn9lL7dPh/fV/Vdwmqw=="
)
