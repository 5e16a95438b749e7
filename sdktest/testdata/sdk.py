"""Drives a Fractal gateway with the official openai Python package, unchanged:

    python sdk.py BASE_URL API_KEY MODEL OUT_DIR

It writes downloaded content to OUT_DIR and prints one JSON report on stdout,
in the shape sdk.mjs prints too; the Go test checks it.
"""

import json
import os
import sys
import time
import warnings

import openai

# The SDK marks the video API deprecated on OpenAI's side; the warning is
# about OpenAI's service, not this one.
warnings.simplefilter("ignore", DeprecationWarning)

base_url, api_key, model, out_dir = sys.argv[1:5]
# No retries: the test sees every answer as the gateway gave it.
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)


def wait_done(video_id):
    """Retrieves a video until it is neither queued nor in progress, for two
    minutes at most."""
    deadline = time.monotonic() + 120
    video = client.videos.retrieve(video_id)
    while video.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.05)
        video = client.videos.retrieve(video_id)
    return video


def download(video_id, variant, name):
    """Saves one variant of a video as OUT_DIR/NAME; returns its content type."""
    content = client.videos.download_content(video_id, variant=variant)
    content.write_to_file(os.path.join(out_dir, name))
    return content.response.headers.get("content-type")


def failure(fn):
    """Runs fn, which should raise, and describes what it raised."""
    try:
        fn()
    except Exception as err:  # the report says what it was
        return {
            "api_error": isinstance(err, openai.APIError),
            "class": type(err).__name__,
            "status": getattr(err, "status_code", 0),
            "message": getattr(err, "message", str(err)),
            "type": getattr(err, "type", None),
            "param": getattr(err, "param", None),
            "code": getattr(err, "code", None),
        }
    return None


def pages(order):
    """Walks a listing with the SDK's own cursor handling."""
    out = []
    for page in client.videos.list(limit=10, order=order).iter_pages():
        extra = page.model_extra or {}
        out.append(
            {
                "ids": [v.id for v in page.data],
                "first_id": extra.get("first_id"),
                "last_id": page.last_id,
                "has_more": page.has_more,
            }
        )
        if len(out) > 10:
            break
    return out


def dump(model_object):
    return model_object.model_dump(mode="json")


report = {"sdk": "openai-python " + openai.__version__}
report["models"] = [m.id for m in client.models.list().data]
report["model"] = dump(client.models.retrieve(model))

# Fractal's seed and steps go beside the SDK's own fields, in the same form.
created = client.videos.create(
    prompt="a red kite over a grey sea",
    model=model,
    seconds="1",
    size="64x64",
    extra_body={"seed": 7, "steps": 4},
)
report["created"] = dump(created)
report["completed"] = dump(wait_done(created.id))
report["content_types"] = {
    variant: download(created.id, variant, variant)
    for variant in ("video", "thumbnail", "spritesheet")
}

report["batch"] = [
    client.videos.create(
        prompt=f"a paper boat, take {i}",
        model=model,
        size="64x64",
        extra_body={"frames": 1, "steps": 1},
    ).id
    for i in range(25)
]
report["pages"] = {"desc": pages("desc"), "asc": pages("asc")}

remix = client.videos.remix(created.id, prompt="a blue kite over a green sea")
report["remix"] = dump(wait_done(remix.id))
report["content_types"]["remix"] = download(remix.id, "video", "remix")

report["deleted"] = dump(client.videos.delete(created.id))
report["after_delete"] = {
    "retrieve": failure(lambda: client.videos.retrieve(created.id)),
    "content": failure(lambda: client.videos.download_content(created.id)),
}

wrong = openai.OpenAI(base_url=base_url, api_key="fk_wrong", max_retries=0)
report["errors"] = {
    "bad_size": failure(
        lambda: client.videos.create(
            prompt="a kite", model=model, seconds="1", size="1280x720"
        )
    ),
    "unknown_model": failure(
        lambda: client.videos.create(
            prompt="a kite", model="sora-2", seconds="1", size="64x64"
        )
    ),
    "wrong_key": failure(lambda: wrong.videos.list()),
}

print(json.dumps(report))
