"""JSON API for uploads and permission-checked downloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict

from sangsaeng.core.files import service
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["files"])


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: int | None
    place: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


def _storage(request: Request) -> service.LocalStorage:
    return request.app.state.storage


@router.post("/files", response_model=FileOut, status_code=status.HTTP_201_CREATED)
async def upload_file(
    request: Request,
    db: SessionDep,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
    place: Annotated[str, Form()],
    organization_id: Annotated[int | None, Form()] = None,
):
    limit = service.PLACES[place].max_bytes if place in service.PLACES else 0
    data = await file.read(limit + 1)  # one byte more than allowed is enough to refuse
    return service.store(
        db,
        actor,
        _storage(request),
        data=data,
        filename=file.filename or "",
        place=place,
        organization_id=organization_id,
    )


@router.get("/files/{file_id}", response_model=FileOut)
def file_metadata(file_id: str, db: SessionDep, actor: CurrentActor):
    return service.get(db, actor, file_id)


@router.get("/files/{file_id}/content")
def file_content(request: Request, file_id: str, db: SessionDep, actor: CurrentActor):
    stored, data = service.download(db, actor, _storage(request), file_id)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.original_name)}"
    return Response(
        data, media_type=stored.content_type, headers={"Content-Disposition": disposition}
    )
