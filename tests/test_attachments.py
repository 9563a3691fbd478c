"""Attachments and avatars (issue 17, items 4 and 5): what members attach, what readers get."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from forum.extensions import db
from forum.models import Attachment, Role, TopicAccess, UserState
from forum.models.types import utcnow
from forum.services import attachments, topic_areas
from forum.storage import LocalStorage, StoredFileMissing
from tests.factories import make_post, make_topic, make_user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
KEY_IN_URL = re.compile(r"/a/([A-Za-z0-9_-]{22})")


def photo_with_location(width: int = 640, height: int = 480) -> bytes:
    """A JPEG as a phone writes it: the camera's model and where it was taken (GPS)."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 13.0, 0.0), 3: "E", 4: (4.0, 54.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"home address")
    return out.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, "PNG")
    return out.getvalue()


def reply_with_files(client, topic, body: str, files: list[tuple[bytes, str]], **extra):
    data = {"body": body, "files": [(io.BytesIO(d), name) for d, name in files], **extra}
    return client.post(f"/t/{topic.id}/reply", data=data, content_type="multipart/form-data")


def keys_of(post) -> list[str]:
    db.session.refresh(post)
    return [a.key for a in post.attachments]


def latest_post(topic):
    from forum.services import reading

    return reading.topic_posts(topic, page=999).items[-1]


def test_photo_is_shown_in_the_post_without_its_location_or_camera(client, member, topic):
    client.login(member)
    response = reply_with_files(
        client, topic, "Our figure.", [(photo_with_location(), "IMG_1.jpg")]
    )
    assert response.status_code == 302
    post = latest_post(topic)
    [key] = keys_of(post)
    page = client.get(response.location).get_data(as_text=True)
    img = re.search(rf'<img src="/a/{key}"[^>]*>', page)
    assert img, page
    assert 'width="640"' in img.group(0) and 'height="480"' in img.group(0)
    assert 'loading="lazy"' in img.group(0) and 'alt="' in img.group(0)
    for address in (f"/a/{key}", f"/a/{key}/original"):
        served = client.get(address)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        image = Image.open(io.BytesIO(served.data))
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info and "comment" not in image.info
        assert b"PhoneMaker" not in served.data and b"home address" not in served.data


def test_a_wide_image_is_shown_smaller_and_its_original_kept(client, member, topic):
    client.login(member)
    reply_with_files(client, topic, "Wide.", [(png(3200, 400), "wide.png")])
    [key] = keys_of(latest_post(topic))
    shown = Image.open(io.BytesIO(client.get(f"/a/{key}").data))
    original = Image.open(io.BytesIO(client.get(f"/a/{key}/original").data))
    assert shown.size == (1600, 200) and original.size == (3200, 400)


def test_pdf_is_listed_under_the_post_and_downloads_as_a_sandboxed_attachment(
    client, member, topic
):
    client.login(member)
    response = reply_with_files(client, topic, "The paper.", [(PDF, "Our paper.pdf")])
    page = client.get(response.location).get_data(as_text=True)
    [key] = keys_of(latest_post(topic))
    assert re.search(rf'<a href="/a/{key}" download><bdi>Our paper.pdf</bdi></a>', page)
    assert "PDF, " in page
    served = client.get(f"/a/{key}")
    assert served.status_code == 200 and served.data == PDF
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"] == 'attachment; filename="Our paper.pdf"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_non_ascii_file_name_is_offered_as_rfc_5987(client, member, topic):
    client.login(member)
    reply_with_files(client, topic, "بيانات", [(b"a,b\n1,2\n", "نتائج.csv")])
    [key] = keys_of(latest_post(topic))
    served = client.get(f"/a/{key}")
    assert served.mimetype == "text/csv"
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%D9%86%D8%AA%D8%A7%D8%A6%D8%AC.csv" in disposition


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "f.svg",
            "SVG and HTML files cannot be attached",
        ),
        (
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "photo.png",
            "SVG and HTML files cannot be attached",
        ),
        (b"", "empty.txt", "The file is empty."),
        (png()[:60], "cut.png", "The image is damaged or incomplete."),
        (b"MZ\x90\x00\x03\x00\x00\x00", "tool.exe", "This kind of file cannot be attached"),
    ],
    ids=["svg", "html-named-png", "zero-bytes", "truncated-png", "executable"],
)
def test_refused_file_is_named_with_why_and_the_reply_is_kept(
    client, member, topic, data, name, message
):
    client.login(member)
    response = reply_with_files(client, topic, "My long, careful reply.", [(data, name)])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-message" id="files-error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1), page
    assert "My long, careful reply.</textarea>" in page
    assert db.session.query(Attachment).count() == 0
    assert topic.reply_count == 0


def test_a_file_over_the_size_limit_is_refused(app, client, member, topic):
    app.config["FORUM_ATTACHMENT_MAX_BYTES"] = 1000
    client.login(member)
    response = reply_with_files(client, topic, "Big data.", [(b"x,y\n" * 400, "big.csv")])
    assert response.status_code == 400
    assert "The file is larger than" in response.get_data(as_text=True)


def test_files_kept_from_a_refused_form_are_posted_with_it_later(client, member, topic):
    """The form came back (an SVG refused); the PDF sent with it is still there, not lost."""
    client.login(member)
    response = reply_with_files(client, topic, "Two files.", [(PDF, "a.pdf"), (b"<svg/>", "b.svg")])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<bdi>a.pdf</bdi>" in page
    keys = re.search(r'name="attachment_keys" type="hidden" value="([^"]+)"', page).group(1)
    response = reply_with_files(client, topic, "Two files.", [], attachment_keys=keys)
    assert response.status_code == 302
    assert keys_of(latest_post(topic)) == [keys]


def test_hostile_file_names_are_cleaned(client, member, topic):
    client.login(member)
    names = ["..\\..\\etc/pass\x00wd.txt", "x" * 50_000 + ".txt", "evil\u202egpj.exe", "\x00\x01"]
    response = reply_with_files(client, topic, "Names.", [(b"hello\n", n) for n in names])
    assert response.status_code == 302
    shown = [a.filename for a in latest_post(topic).attachments]
    assert shown[0] == "passwd.txt"
    assert len(shown[1]) == 100 and shown[1].endswith(".txt")
    assert shown[2] == "evilgpj.exe.txt"
    assert shown[3] == "attachment.txt"


def test_a_post_holds_at_most_the_configured_number_of_files(app, client, member, topic):
    app.config["FORUM_ATTACHMENTS_PER_POST"] = 2
    client.login(member)
    response = reply_with_files(client, topic, "Many.", [(b"t\n", f"{i}.txt") for i in range(3)])
    assert response.status_code == 400
    assert "A post may hold at most 2 files." in response.get_data(as_text=True)


def test_dropped_file_uploads_as_json_and_its_reference_shows_the_image(client, member, topic):
    client.login(member)
    token = client.csrf_token()
    response = client.post(
        "/attachments",
        data={"file": (io.BytesIO(png(300, 200)), "figure.png")},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    uploaded = response.get_json()
    assert uploaded["markdown"] == f"![figure.png](/a/{uploaded['key']})"
    # Before it is posted, only the uploader may fetch it.
    assert client.get(f"/a/{uploaded['key']}").status_code == 200
    body = f"See {uploaded['markdown']} and ![remote](https://tracker.example/p.png)"
    client.post(f"/t/{topic.id}/reply", data={"body": body, "attachment_keys": uploaded["key"]})
    post = latest_post(topic)
    assert f'<img src="/a/{uploaded["key"]}" alt="figure.png" width="300" height="200"' in (
        post.body_html
    )
    assert '<a href="https://tracker.example/p.png"' in post.body_html  # never a remote <img>


def test_upload_needs_the_csrf_token(client, member):
    client.login(member)
    response = client.post(
        "/attachments",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code == 400
    assert db.session.query(Attachment).count() == 0


def test_suspended_member_cannot_upload(client, member):
    member.state = UserState.SUSPENDED
    db.session.commit()
    client.login(member)
    response = client.post(
        "/attachments",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        headers={"X-CSRFToken": client.csrf_token()},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code == 403
    assert db.session.query(Attachment).count() == 0


def _attached(post, uploader) -> str:
    result = attachments.upload_files(uploader, [attachments.FileSent(PDF, "secret.pdf")])
    attachments.attach(uploader, post, [result.accepted[0].key])
    db.session.commit()
    return result.accepted[0].key


def test_member_not_let_into_a_restricted_topic_gets_404_for_its_attachment(
    client, member, other_member, safety
):
    topic = make_topic(safety, author=member, title="Working jailbreak")
    topic.is_restricted = True
    topic.embargo_until = utcnow() + timedelta(days=30)
    db.session.commit()
    key = _attached(make_post(topic, author=member), member)
    missing = "A" * 22
    client.login(other_member)
    assert client.get(f"/a/{key}").status_code == 404
    not_found = client.get(f"/a/{missing}").get_data(as_text=True).replace(missing, key)
    assert client.get(f"/a/{key}").get_data(as_text=True) == not_found
    invited = make_user()
    db.session.add(TopicAccess(topic_id=topic.id, user_id=invited.id))
    db.session.commit()
    client.logout()
    client.login(invited)
    assert client.get(f"/a/{key}").status_code == 200


def test_visitor_gets_404_for_an_attachment_in_a_members_only_area(client, member):
    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    key = _attached(make_post(make_topic(meta, author=member), author=member), member)
    assert client.get(f"/a/{key}").status_code == 404
    client.login(make_user())
    assert client.get(f"/a/{key}").status_code == 200


def test_hidden_and_deleted_posts_attachments_are_not_found(client, member, topic):
    moderator = make_user(role=Role.MODERATOR)
    hidden = make_post(topic, author=member)
    hidden_key = _attached(hidden, member)
    hidden.hidden_at = utcnow()
    deleted = make_post(topic, author=member)
    deleted_key = _attached(deleted, member)
    deleted.deleted_at = utcnow()
    db.session.commit()
    client.login(make_user())
    assert client.get(f"/a/{hidden_key}").status_code == 404
    assert client.get(f"/a/{deleted_key}").status_code == 404
    client.logout()
    client.login(moderator)
    assert client.get(f"/a/{hidden_key}").status_code == 200


def test_an_upload_not_yet_posted_is_its_uploaders_alone(client, member):
    result = attachments.upload_files(member, [attachments.FileSent(PDF, "draft.pdf")])
    key = result.accepted[0].key
    assert client.get(f"/a/{key}").status_code == 404
    client.login(make_user())
    assert client.get(f"/a/{key}").status_code == 404


def test_someone_elses_waiting_upload_cannot_be_attached(client, member, other_member, topic):
    result = attachments.upload_files(other_member, [attachments.FileSent(PDF, "theirs.pdf")])
    client.login(member)
    client.post(
        f"/t/{topic.id}/reply", data={"body": "Mine.", "attachment_keys": result.accepted[0].key}
    )
    assert keys_of(latest_post(topic)) == []


# --- Avatars -------------------------------------------------------------------------------------


def test_uploaded_avatar_is_a_square_shown_on_posts_and_initials_otherwise(
    client, member, other_member, topic
):
    member.display_name = "Amina Diallo"
    other_member.display_name = "Karim Nasser"
    db.session.commit()
    make_post(topic, author=other_member)
    client.login(member)
    response = client.post(
        "/settings/avatar",
        data={"avatar": (io.BytesIO(photo_with_location(900, 600)), "me.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.refresh(member)
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    picture = f'src="/avatars/{member.avatar_key}" alt="" width="40" height="40"'
    assert picture in page
    assert '<span class="avatar avatar-small" aria-hidden="true">KN</span>' in page
    served = client.get(f"/avatars/{member.avatar_key}")
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (256, 256) and dict(image.getexif()) == {}
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # On the directory and the profile too.
    assert picture.replace('"40"', '"40"') in client.get("/members").get_data(as_text=True)
    assert f"/avatars/{member.avatar_key}" in client.get(f"/u/{member.id}").get_data(as_text=True)


def test_a_replaced_avatar_is_gone(client, member):
    client.login(member)
    for _ in range(2):
        client.post(
            "/settings/avatar",
            data={"avatar": (io.BytesIO(png(300, 300)), "me.png")},
            content_type="multipart/form-data",
        )
        db.session.refresh(member)
        if _ == 0:
            first = member.avatar_key
    assert client.get(f"/avatars/{first}").status_code == 404
    assert client.get(f"/avatars/{member.avatar_key}").status_code == 200
    client.post("/settings/avatar/remove")
    db.session.refresh(member)
    assert member.avatar_key is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG and HTML files cannot be attached"),
        (PDF, "Choose a PNG, JPEG, WebP or GIF image."),
        (b"", "The file is empty."),
    ],
    ids=["svg", "pdf", "empty"],
)
def test_an_avatar_that_is_not_a_picture_is_refused_at_its_field(client, member, data, message):
    client.login(member)
    response = client.post(
        "/settings/avatar",
        data={"avatar": (io.BytesIO(data), "me.svg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    error = re.search(r'id="avatar-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert error and message in error.group(1)


# --- Storage -------------------------------------------------------------------------------------


def test_local_storage_keeps_streams_and_deletes(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("attachments/k1/original", b"abc" * 50_000, content_type="text/plain")
    assert store.exists("attachments/k1/original")
    assert store.get("attachments/k1/original") == b"abc" * 50_000
    assert b"".join(store.stream("attachments/k1/original")) == b"abc" * 50_000
    store.delete("attachments/k1/original")
    assert not store.exists("attachments/k1/original")
    with pytest.raises(StoredFileMissing):
        store.get("attachments/k1/original")
    with pytest.raises(ValueError):
        store.put("../outside", b"x", content_type="text/plain")


def test_s3_storage_against_a_local_s3_server(monkeypatch):
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import boto3

    from forum.storage import open_storage

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="forum-files")
        store = open_storage(
            "s3://forum-files/prod", instance_path="/nonexistent", endpoint_url=endpoint
        )
        store.put("attachments/k2/original", PDF, content_type="application/pdf")
        assert store.exists("attachments/k2/original")
        assert store.get("attachments/k2/original") == PDF
        assert b"".join(store.stream("attachments/k2/original")) == PDF
        listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket="forum-files")
        assert [o["Key"] for o in listed["Contents"]] == ["prod/attachments/k2/original"]
        store.delete("attachments/k2/original")
        assert not store.exists("attachments/k2/original")
        with pytest.raises(StoredFileMissing):
            store.get("attachments/k2/original")
    finally:
        server.stop()


def test_a_new_topic_and_an_edit_take_attachments_too(client, member, safety):
    client.login(member)
    response = client.post(
        f"/c/{safety.slug}/new",
        data={
            "title": "Membership inference on small models",
            "kind": "discussion",
            "body": "Data attached.",
            "files": [(io.BytesIO(b"model,auc\na,0.61\nb,0.72\n"), "results.csv")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    assert "<bdi>results.csv</bdi>" in page and "CSV, " in page
    opening = db.session.query(Attachment).one().post
    response = client.post(
        f"/p/{opening.id}/edit",
        data={
            "title": "Membership inference on small models",
            "body": "Data attached.",
            "files": [(io.BytesIO(PDF), "notes.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert [a.filename for a in opening.attachments] == ["results.csv", "notes.pdf"]


@pytest.mark.parametrize("key", ["x" * 50_000, "A" * 21, "99999999999999999999999", "%00" * 22])
def test_an_attachment_address_that_is_no_attachment_is_a_404(client, key):
    assert client.get(f"/a/{key}").status_code in {400, 404}
    assert client.get(f"/avatars/{key}").status_code in {400, 404}


def test_uploads_no_post_took_within_a_day_are_discarded_by_the_cli(app, runner, member, topic):
    from forum.storage import storage

    waiting = attachments.upload_files(member, [attachments.FileSent(png(2000, 100), "w.png")])
    abandoned = waiting.accepted[0]
    kept_key = _attached(make_post(topic, author=member), member)
    fresh = attachments.upload_files(member, [attachments.FileSent(PDF, "new.pdf")]).accepted[0]
    for attachment in db.session.query(Attachment).filter(Attachment.key != fresh.key):
        attachment.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert storage().exists(abandoned.display_key)
    result = runner.invoke(args=["attachments", "discard-unposted"])
    assert result.exit_code == 0 and "1 unposted uploads deleted." in result.output
    assert {a.key for a in db.session.query(Attachment)} == {kept_key, fresh.key}
    assert not storage().exists(f"attachments/{abandoned.key}/original")
    assert not storage().exists(f"attachments/{abandoned.key}/display")
    assert storage().exists(f"attachments/{kept_key}/original")


def test_a_request_larger_than_its_files_may_be_is_refused_whole(app, client, member, topic):
    app.config.update(FORUM_ATTACHMENT_MAX_BYTES=1000, FORUM_ATTACHMENTS_PER_POST=1)
    client.login(member)
    # Sent as a browser would, in one stream (the test client would spool a file part to disk).
    body = (
        b'--b0\r\nContent-Disposition: form-data; name="body"\r\n\r\nHuge.\r\n'
        b'--b0\r\nContent-Disposition: form-data; name="files"; filename="huge.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"x" * 2_200_000 + b"\r\n--b0--\r\n"
    )
    response = client.post(
        f"/t/{topic.id}/reply",
        data=body,
        content_type="multipart/form-data; boundary=b0",
        csrf=False,
    )
    assert response.status_code == 413
    assert db.session.query(Attachment).count() == 0
    # The page says what the limits are and where the typed text is, not Werkzeug's bare 413.
    page = response.get_data(as_text=True)
    assert "at most 1 KB a file, 1 file a post" in page
    assert "kept as a draft in this browser" in page


def test_an_upload_the_text_refers_to_is_posted_even_without_its_key(client, member, topic):
    """A draft restored after a reload keeps the reference but not the form's hidden keys."""
    uploaded = attachments.upload_files(member, [attachments.FileSent(png(), "fig.png")])
    key = uploaded.accepted[0].key
    client.login(member)
    client.post(f"/t/{topic.id}/reply", data={"body": f"![fig](/a/{key})"})
    assert keys_of(latest_post(topic)) == [key]
    client.logout()
    assert client.get(f"/a/{key}").status_code == 200  # a visitor sees it with the post
