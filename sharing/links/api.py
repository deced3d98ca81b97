from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse

from sharing.links import service
from sharing.links.schemas import (
    ChallengeOut,
    LinkCreate,
    LinkItemIn,
    LinkOut,
    LinkProof,
    PreviewOut,
    RedeemOut,
    RedeemRequest,
)
from wallet.accounts import service as accounts
from wallet.deps import DB, AppSettings, FullCaller, Store
from wallet.documents.api import stream_blob
from wallet.errors import Unauthorized

router = APIRouter(tags=["links"])
pages = APIRouter(tags=["pages"])
LinkId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/links", status_code=status.HTTP_201_CREATED)
def create_link(
    data: LinkCreate, caller: FullCaller, db: DB, settings: AppSettings
) -> dict[str, str]:
    link = service.create_link(db, settings, caller.account, data)
    return {"id": link.id}


@router.get("/links", response_model=list[LinkOut])
def list_links(caller: FullCaller, db: DB) -> list[LinkOut]:
    return [
        LinkOut(
            id=link.id,
            state=service.state_of(link),
            uses_total=link.uses_total,
            uses_left=link.uses_left,
            failed_pins=link.failed_pins,
            pin=link.pin_check is not None,
            expires_at=link.expires_at,
            created_at=link.created_at,
            revoked_at=link.revoked_at,
            sealed_preview=link.sealed_preview,
            items=[LinkItemIn(document_id=i.document_id, version=i.version) for i in items],
        )
        for link, items in service.list_links(db, caller.account)
    ]


@router.post("/links/{link_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_link(link_id: LinkId, caller: FullCaller, db: DB) -> Response:
    service.revoke_link(db, caller.account, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/links/{link_id}/challenge", response_model=ChallengeOut)
def challenge(link_id: LinkId, db: DB) -> ChallengeOut:
    item = service.new_challenge(db, link_id)
    return ChallengeOut(challenge_id=item.id, nonce=item.nonce, expires_at=item.expires_at)


@router.post("/links/{link_id}/preview", response_model=PreviewOut)
def preview(link_id: LinkId, data: LinkProof, db: DB) -> PreviewOut:
    """Shows purpose and expiry (sealed) and the link's state. Never consumes a use."""
    link, state = service.preview(db, link_id, data.challenge_id, data.proof)
    return PreviewOut(
        state=state,
        message=service.state_message(state),
        pin_required=link.pin_check is not None,
        sealed_preview=link.sealed_preview,
        expires_at=link.expires_at,
    )


def _redeemer(request: Request, db: DB) -> str | None:
    """The logged-in account that redeems, if it sent its session: the link then shows in its
    inbox for 15 minutes. A link needs no account, so a missing or stale session is no error."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        account, session = accounts.authenticate(db, token.strip())
    except Unauthorized:
        return None
    return account.id if session.kind == "full" else None


@router.post("/links/{link_id}/redeem", response_model=RedeemOut)
def redeem(
    link_id: LinkId, data: RedeemRequest, request: Request, db: DB, settings: AppSettings
) -> RedeemOut:
    result = service.redeem(
        db,
        settings,
        link_id,
        data.challenge_id,
        data.proof,
        data.pin_check,
        redeemer_id=_redeemer(request, db),
    )
    return RedeemOut(
        server_share=result.server_share,
        sealed_package=result.sealed_package,
        descriptor=result.link.descriptor,
        signature=result.link.signature,
        download_token=result.download_token,
        download_expires_at=result.download_expires_at,
        uses_left=result.uses_left,
    )


@router.get("/links/files/{document_id}/versions/{version}")
async def download(
    document_id: str, version: int, request: Request, db: DB, store: Store
) -> StreamingResponse:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(service.DOWNLOAD_ENDED)
    row = await run_in_threadpool(service.download_item, db, token.strip(), document_id, version)
    return await stream_blob(request, store, row)


# The link page speaks the reader's language (French, Dutch, German or English). It is the same
# for every link id, so it tells nothing about whether a link exists or was used.
LINK_PAGE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Shared documents",
        "heading": "Someone shared documents with you",
        "safe": "Opening this page does not use the link. Nothing is opened until you choose to.",
        "how": "To open the documents, use the wallet app, or on a computer:",
        "copy": "Copy the whole address, including the part after the # sign.",
        "folder": "my-folder",
    },
    "fr": {
        "title": "Documents partagés",
        "heading": "Quelqu'un vous a partagé des documents",
        "safe": "Ouvrir cette page n'utilise pas le lien. Rien n'est ouvert tant que vous ne le "
        "choisissez pas.",
        "how": "Pour ouvrir les documents, utilisez l'application du portefeuille, ou sur un "
        "ordinateur :",
        "copy": "Copiez toute l'adresse, y compris la partie après le signe #.",
        "folder": "mon-dossier",
    },
    "nl": {
        "title": "Gedeelde documenten",
        "heading": "Iemand heeft documenten met u gedeeld",
        "safe": "Deze pagina openen gebruikt de link niet. Niets wordt geopend tot u dat kiest.",
        "how": "Gebruik de portefeuille-app om de documenten te openen, of op een computer:",
        "copy": "Kopieer het hele adres, ook het deel na het teken #.",
        "folder": "mijn-map",
    },
    "de": {
        "title": "Geteilte Dokumente",
        "heading": "Jemand hat Dokumente mit Ihnen geteilt",
        "safe": "Diese Seite zu öffnen verbraucht den Link nicht. Nichts wird geöffnet, bevor Sie "
        "es wählen.",
        "how": "Um die Dokumente zu öffnen, nutzen Sie die Wallet-App, oder an einem Computer:",
        "copy": "Kopieren Sie die ganze Adresse, auch den Teil nach dem Zeichen #.",
        "folder": "mein-ordner",
    },
}


def page_language(accept_language: str) -> str:
    """The first of fr, nl, de, en in the browser's preference order; English otherwise."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _q, _p, language in sorted(ranked):
        if language in LINK_PAGE_TEXT:
            return language
    return "en"


def render_link_page(language: str) -> str:
    text = {k: html.escape(v) for k, v in LINK_PAGE_TEXT[language].items()}
    return f"""<!doctype html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{text["title"]}</title></head>
<body>
<main>
<h1>{text["heading"]}</h1>
<p>{text["safe"]}</p>
<p>{text["how"]}</p>
<pre>wallet share open "…" -o {text["folder"]}</pre>
<p>{text["copy"]}</p>
</main>
</body></html>
"""


@pages.get("/s/{link_id}", response_class=HTMLResponse, include_in_schema=False)
def link_page(link_id: str, request: Request) -> HTMLResponse:
    """The same page for every id: it reveals nothing and consumes nothing."""
    language = page_language(request.headers.get("accept-language", ""))
    return HTMLResponse(
        render_link_page(language),
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            "X-Robots-Tag": "noindex",
            "Content-Language": language,
            "Vary": "Accept-Language",
        },
    )
