"""The introspected schema is the documentation: every part of it is described."""

from __future__ import annotations

INTROSPECTION = """{ __schema { types {
    name kind description
    fields(includeDeprecated: true) { name description args { name description } }
    inputFields { name description }
    enumValues(includeDeprecated: true) { name description }
} } }"""

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


async def test_every_type_field_argument_and_value_is_described(api):
    types = (await api.ok(INTROSPECTION))["__schema"]["types"]
    missing = []
    for kind in types:
        name = kind["name"]
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not kind["description"]:
            missing.append(name)
        for field in kind["fields"] or []:
            if not field["description"]:
                missing.append(f"{name}.{field['name']}")
            missing += [f"{name}.{field['name']}({arg['name']})" for arg in field["args"] if not arg["description"]]
        missing += [f"{name}.{field['name']}" for field in kind["inputFields"] or [] if not field["description"]]
        missing += [f"{name}.{value['name']}" for value in kind["enumValues"] or [] if not value["description"]]
    assert missing == []
    names = {kind["name"] for kind in types}
    assert {"Upload", "JSON", "Person", "Face", "Verification", "ErrorCode"} <= names
