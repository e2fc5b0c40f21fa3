"""The `faceid` command: import, export, restore, reembed, keys, collections, serve."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from cli import transfer
from cli.client import DEFAULT_URL, Client, GraphQLFailure, default_api_key

SCOPES = ("READ", "VERIFY", "ENROL", "DELETE", "BIOMETRICS", "ADMIN")  # the API's enum ApiScope
KEY_FIELDS = "id name scopes collections createdAt lastUsedAt revokedAt fromEnvironment"
COLLECTION_FIELDS = "id name description model maxPersons maxFaces personCount faceCount createdAt"
COLLECTION_OPTION = click.option(
    "--collection",
    default=None,
    help="A collection's id [default: the key's only collection, else `default`]; see `faceid collections list`.",
)


@click.group()
@click.option(
    "--url", envvar="FACEID_URL", default=DEFAULT_URL, show_default=True, help="The server [also $FACEID_URL]."
)
@click.option(
    "--api-key",
    envvar="FACEID_API_KEY",
    default=None,
    help="An API key [also $FACEID_API_KEY; default: $DATA_DIR/admin-api-key].",
)
@click.pass_context
def cli(context: click.Context, url: str, api_key: str | None) -> None:
    """Manage a running faceid server through its GraphQL API."""
    context.obj = Client(url, api_key or default_api_key())


@cli.group()
def keys() -> None:
    """API keys (needs an ADMIN key)."""


def _run(client: Client, query: str, **variables: object) -> dict[str, object]:
    try:
        return client.execute(query, **variables)
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None


@keys.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES, case_sensitive=False),
    help="A scope; repeat for several.",
)
@click.option(
    "--collection",
    "collections",
    multiple=True,
    help="A collection id the key may see; repeat for several [default: every collection].",
)
@click.pass_obj
def create_key(client: Client, name: str, scopes: tuple[str, ...], collections: tuple[str, ...]) -> None:
    """Create a key; prints its secret (shown this once) on stdout."""
    data = _run(
        client,
        f"mutation($n: String!, $s: [ApiScope!]!, $c: [ID!]) {{ createApiKey(name: $n, scopes: $s, collections: $c) "
        f"{{ secret apiKey {{ {KEY_FIELDS} }} }} }}",
        n=name,
        s=[scope.upper() for scope in scopes],
        c=list(collections) or None,
    )
    created = data["createApiKey"]
    assert isinstance(created, dict)
    key = created["apiKey"]
    click.echo(f"created key {key['id']} ({key['name']}: {', '.join(key['scopes'])}); its secret:", err=True)
    click.echo(created["secret"])


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Also list revoked keys.")
@click.pass_obj
def list_keys(client: Client, include_revoked: bool) -> None:
    """List keys (never their secrets)."""
    data = _run(client, f"query($r: Boolean!) {{ apiKeys(includeRevoked: $r) {{ {KEY_FIELDS} }} }}", r=include_revoked)
    rows = data["apiKeys"]
    assert isinstance(rows, list)
    for key in rows:
        state = f"revoked {key['revokedAt']}" if key["revokedAt"] else f"last used {key['lastUsedAt'] or 'never'}"
        click.echo(f"{key['id']}  {key['name']:<30}  {','.join(key['scopes']):<30}  {state}")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def revoke_key(client: Client, key_id: str) -> None:
    """Revoke a key by id: it stops working at once."""
    data = _run(client, "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }", id=key_id)
    revoked = data["revokeApiKey"]
    assert isinstance(revoked, dict)
    click.echo(f"revoked {revoked['id']} at {revoked['revokedAt']}")


@cli.group()
def collections() -> None:
    """Collections: galleries of their own on one server."""


@collections.command("list")
@click.pass_obj
def list_collections(client: Client) -> None:
    """List the collections the key may see, with their counts."""
    rows = _run(client, f"{{ collections {{ {COLLECTION_FIELDS} }} }}")["collections"]
    assert isinstance(rows, list)
    for row in rows:
        limits = f"max {row['maxPersons'] or '-'} persons / {row['maxFaces'] or '-'} faces"
        click.echo(
            f"{row['id']}  {row['name']:<24}  {row['personCount']:>7} persons  {row['faceCount']:>8} faces  {limits}"
        )


@collections.command("create")
@click.argument("name")
@click.option("--description", default="", help="What it is for.")
@click.option("--max-persons", type=click.IntRange(min=1), default=None, help="The most persons it may hold.")
@click.option("--max-faces", type=click.IntRange(min=1), default=None, help="The most faces it may hold.")
@click.option("--model", default=None, help="A model the server has loaded (EMBEDDERS) [default: the server's].")
@click.pass_obj
def create_collection(
    client: Client, name: str, description: str, max_persons: int | None, max_faces: int | None, model: str | None
) -> None:
    """Create a collection (needs an ADMIN key bound to no collection); prints its id on stdout."""
    data = _run(
        client,
        f"mutation($i: CollectionInput!) {{ createCollection(input: $i) {{ {COLLECTION_FIELDS} }} }}",
        i={"name": name, "description": description, "maxPersons": max_persons, "maxFaces": max_faces, "model": model},
    )
    created = data["createCollection"]
    assert isinstance(created, dict)
    click.echo(f"created collection {created['name']!r}", err=True)
    click.echo(created["id"])


@collections.command("delete")
@click.argument("collection_id")
@click.confirmation_option(prompt="Delete the collection with every person and face in it?")
@click.pass_obj
def delete_collection(client: Client, collection_id: str) -> None:
    """Delete a collection with every person and face in it (needs ADMIN)."""
    data = _run(
        client,
        "mutation($id: ID!) { deleteCollection(id: $id) { id deletedPersons deletedFaces } }",
        id=collection_id,
    )
    deleted = data["deleteCollection"]
    assert isinstance(deleted, dict)
    click.echo(f"deleted {deleted['id']}: {deleted['deletedPersons']} persons, {deleted['deletedFaces']} faces")


@collections.command("reembed")
@click.argument("collection_id")
@click.argument("model")
@click.option("--no-wait", is_flag=True, help="Start the job, print its id and return.")
@click.pass_obj
def reembed_collection(client: Client, collection_id: str, model: str, no_wait: bool) -> None:
    """Move a collection to MODEL (a model the server has loaded) from its stored crops, in a job on the server
    that goes on if this command stops (needs ADMIN); 1:K answers with the old model until it ends."""
    try:
        job_id = transfer.start_reembedding(client, collection_id, model)
        click.echo(job_id)
        if no_wait:
            return
        job = transfer.follow_job(client, job_id, Console(stderr=True))
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None
    if job["state"] != "SUCCEEDED":
        raise click.ClickException(f"job {job_id} {job['state'].lower()}: {job['error']}")
    click.echo(f"collection now searched with {job['toModel']}: {job['done']} faces; {job['skippedCount']} left behind")
    for skipped in job["skipped"][:10]:
        click.echo(f"  {skipped['faceId']}: {skipped['reason']}")


@cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--workers", default=8, show_default=True, help="Photos uploaded at once.")
@click.option("--allow-low-quality", is_flag=True, help="Enrol faces below the enrolment minimums too.")
@COLLECTION_OPTION
@click.pass_obj
def import_command(client: Client, folder: Path, workers: int, allow_low_quality: bool, collection: str | None) -> None:
    """Enrol FOLDER/<person>/<photos>: one person per sub-folder (its name is the externalId; created if
    missing). Photos already enrolled for that person (same bytes) are skipped, so a stopped import resumes."""
    console = Console(stderr=True)
    try:
        report = transfer.import_folder(client, folder, workers, allow_low_quality, console, collection)
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None
    if report.folders == 0:
        raise click.ClickException(f"{folder} holds no person folder with photos ({folder}/<person>/<photo>.jpg)")
    rate = report.enrolled / report.seconds if report.seconds else 0.0
    click.echo(
        f"enrolled {report.enrolled} photos in {report.seconds:.1f} s ({rate:.2f} photos/s); "
        f"{report.persons_created} persons created; {report.skipped} already enrolled; "
        f"{sum(report.failures.values())} failed"
    )
    for code, count in report.failures.most_common():
        click.echo(f"  {code}: {count} (e.g. {report.examples[code]})")
    if report.failures:
        raise SystemExit(1)  # a script sees that some photos are missing; running it again retries them


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@COLLECTION_OPTION
@click.pass_obj
def export_command(client: Client, file: Path, collection: str | None) -> None:
    """Write every person and face of a collection (embeddings and crops included) to FILE, as JSON lines.
    Needs READ and BIOMETRICS."""
    try:
        persons, faces = transfer.export_gallery(client, file, collection)
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {persons} persons and {faces} faces to {file}")


@cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@COLLECTION_OPTION
@click.pass_obj
def restore_command(client: Client, file: Path, collection: str | None) -> None:
    """Put back what `faceid export` wrote into a collection, ids and times included (needs ADMIN). Rows already
    there are left alone, so it can be run again after an interruption."""
    try:
        report = transfer.restore_gallery(client, file, Console(stderr=True), collection)
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"restored {report.persons} persons and {report.faces} faces from {file}: {report.new_persons} persons and "
        f"{report.new_faces} faces new, {report.persons - report.new_persons} persons and "
        f"{report.faces - report.new_faces} faces already there"
    )


@cli.command("reembed")
@click.option("--batch", default=100, show_default=True, help="Faces a call (at most 500).")
@click.pass_obj
def reembed_command(client: Client, batch: int) -> None:
    """After EMBEDDER or FACE_DETECTOR changed: embed every face stored by another model again, from its stored
    crop, with the server's model (needs ADMIN). Faces already done are not looked at again, so it can be run
    again after an interruption."""
    try:
        report = transfer.reembed_gallery(client, batch, Console(stderr=True))
    except GraphQLFailure as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"re-embedded {report.reembedded} faces with {report.model or 'the server model'} in {report.seconds:.1f} s; "
        f"{len(report.skipped)} left as they were"
    )
    for face_id, reason in list(report.skipped.items())[:10]:
        click.echo(f"  {face_id}: {reason}")


@cli.command("serve")
def serve_command() -> None:
    """Run the server here (as `make run` does), configured by the environment (see the README)."""
    from app import main  # the one command that runs the server rather than talking to it

    main()


if __name__ == "__main__":
    cli()
