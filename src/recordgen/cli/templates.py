"""``recordgen templates check``: look after the Word templates staff edit."""

from __future__ import annotations

import click

from recordgen.cli.context import settings_of
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.documents.template_check import check_templates
from recordgen.documents.validate import SchemaSet


@click.group()
def templates() -> None:
    """Look after the Word templates."""


@templates.command("check")
@click.pass_context
def templates_check(ctx: click.Context) -> None:
    """Report template tags Jinja cannot parse and fields no schema defines."""
    settings = settings_of(ctx)
    findings = check_templates(settings.folders.templates, SchemaSet(settings.folders.schemas))
    for finding in findings:
        click.echo(str(finding))
    if findings:
        ctx.exit(EXIT_PROBLEMS)
    click.echo("All templates parse, and every field they use is defined by a schema.")
