from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from wallet.deps import DB, FullCaller, VaultChange
from wallet.profile import service
from wallet.profile.models import ProfileField
from wallet.profile.schemas import FieldOut, FieldPut

router = APIRouter(tags=["profile"])
Slot = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _out(row: ProfileField) -> FieldOut:
    return FieldOut.model_validate(row, from_attributes=True)


@router.get("/profile", response_model=list[FieldOut])
def list_fields(caller: FullCaller, db: DB) -> list[FieldOut]:
    return [_out(row) for row in service.list_fields(db, caller.account)]


@router.put("/profile/{slot}", response_model=FieldOut, dependencies=[VaultChange])
def put_field(slot: Slot, data: FieldPut, caller: FullCaller, db: DB) -> FieldOut:
    row = service.put_field(
        db, caller.account, slot, data.ciphertext, data.wrapped_key, data.signature
    )
    return _out(row)


@router.delete(
    "/profile/{slot}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[VaultChange]
)
def delete_field(slot: Slot, caller: FullCaller, db: DB) -> Response:
    service.delete_field(db, caller.account, slot)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
