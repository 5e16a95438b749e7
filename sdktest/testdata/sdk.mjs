// Drives a Fractal gateway with the official openai npm package, unchanged:
//   node sdk.mjs BASE_URL API_KEY MODEL OUT_DIR
// It writes downloaded content to OUT_DIR and prints one JSON report on
// stdout, in the shape sdk.py prints too; the Go test checks it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const [baseURL, apiKey, model, outDir] = process.argv.slice(2);
// No retries: the test sees every answer as the gateway gave it.
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const report = { sdk: 'openai-node ' + VERSION };

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// waitDone retrieves a video until it is neither queued nor in progress,
// for two minutes at most.
async function waitDone(id) {
  const deadline = Date.now() + 120_000;
  let video = await client.videos.retrieve(id);
  while ((video.status === 'queued' || video.status === 'in_progress') && Date.now() < deadline) {
    await sleep(50);
    video = await client.videos.retrieve(id);
  }
  return video;
}

// download saves one variant of a video as OUT_DIR/NAME and returns its
// content type.
async function download(id, variant, name) {
  const res = await client.videos.downloadContent(id, { variant });
  await writeFile(join(outDir, name), Buffer.from(await res.arrayBuffer()));
  return res.headers.get('content-type');
}

// failure runs fn, which should throw, and describes what it threw.
async function failure(fn) {
  try {
    await fn();
  } catch (err) {
    return {
      api_error: err instanceof OpenAI.APIError,
      class: err.constructor.name,
      status: err.status ?? 0,
      message: err.message,
      type: err.type ?? null,
      param: err.param ?? null,
      code: err.code ?? null,
    };
  }
  return null;
}

// pages walks a listing with the SDK's own cursor handling.
async function pages(order) {
  const out = [];
  const first = await client.videos.list({ limit: 10, order });
  for await (const page of first.iterPages()) {
    out.push({
      ids: page.data.map((v) => v.id),
      first_id: page.body.first_id ?? null,
      last_id: page.body.last_id ?? null,
      has_more: page.has_more,
    });
    if (out.length > 10) break;
  }
  return out;
}

const listed = await client.models.list();
report.models = listed.data.map((m) => m.id);
report.model = await client.models.retrieve(model);

// Fractal's seed and steps go beside the SDK's own fields, in the same form.
report.created = await client.videos.create({ prompt: 'a red kite over a grey sea', model, seconds: '1', size: '64x64', seed: 7, steps: 4 });
report.completed = await waitDone(report.created.id);
const id = report.created.id;
report.content_types = {
  video: await download(id, 'video', 'video'),
  thumbnail: await download(id, 'thumbnail', 'thumbnail'),
  spritesheet: await download(id, 'spritesheet', 'spritesheet'),
};

report.batch = [];
for (let i = 0; i < 25; i++) {
  const v = await client.videos.create({ prompt: 'a paper boat, take ' + i, model, size: '64x64', frames: 1, steps: 1 });
  report.batch.push(v.id);
}
report.pages = { desc: await pages('desc'), asc: await pages('asc') };

const remix = await client.videos.remix(id, { prompt: 'a blue kite over a green sea' });
report.remix = await waitDone(remix.id);
report.content_types.remix = await download(remix.id, 'video', 'remix');

report.deleted = await client.videos.delete(id);
report.after_delete = {
  retrieve: await failure(() => client.videos.retrieve(id)),
  content: await failure(() => client.videos.downloadContent(id)),
};

report.errors = {
  bad_size: await failure(() => client.videos.create({ prompt: 'a kite', model, seconds: '1', size: '1280x720' })),
  unknown_model: await failure(() => client.videos.create({ prompt: 'a kite', model: 'sora-2', seconds: '1', size: '64x64' })),
  wrong_key: await failure(() => new OpenAI({ baseURL, apiKey: 'fk_wrong', maxRetries: 0 }).videos.list()),
};

console.log(JSON.stringify(report));
