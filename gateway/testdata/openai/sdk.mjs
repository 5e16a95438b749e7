// Drives a gateway with the official openai npm package, unchanged:
// node sdk.mjs BASE_URL API_KEY MODEL. Prints one JSON line of results.
import OpenAI from 'openai';

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey });

function check(ok, what) {
  if (!ok) throw new Error(what);
}

const models = await client.models.list();
check(models.data.some((m) => m.id === model && m.object === 'model' && m.default === true), 'models.list: ' + JSON.stringify(models.data));
const served = await client.models.retrieve(model);
check(served.id === model && served.limits.frames.max > 0, 'models.retrieve: ' + JSON.stringify(served));

const created = await client.videos.create({ prompt: 'a red kite over a grey sea', model, seconds: '1', size: '64x64' });
check(created.object === 'video' && created.status === 'queued', 'create: ' + JSON.stringify(created));

let video = await client.videos.retrieve(created.id);
for (let i = 0; i < 600 && (video.status === 'queued' || video.status === 'in_progress'); i++) {
  await new Promise((r) => setTimeout(r, 100));
  video = await client.videos.retrieve(created.id);
}
check(video.status === 'completed', 'retrieve: ' + JSON.stringify(video));
check(video.model === model && video.seconds === '1' && video.size === '64x64' && video.error === null, 'fields: ' + JSON.stringify(video));

const page = await client.videos.list({ limit: 10 });
check(page.data.some((v) => v.id === created.id), 'list: ' + JSON.stringify(page.data.map((v) => v.id)));

const content = await client.videos.downloadContent(created.id);
const mp4 = Buffer.from(await content.arrayBuffer());
check(mp4.subarray(4, 8).toString() === 'ftyp', 'content is not an MP4');
const thumb = Buffer.from(await (await client.videos.downloadContent(created.id, { variant: 'thumbnail' })).arrayBuffer());
check(thumb.subarray(1, 4).toString() === 'PNG', 'thumbnail is not a PNG');

const deleted = await client.videos.delete(created.id);
check(deleted.deleted === true && deleted.object === 'video.deleted' && deleted.id === created.id, 'delete: ' + JSON.stringify(deleted));
let status = 0;
try {
  await client.videos.retrieve(created.id);
} catch (err) {
  status = err.status;
}
check(status === 404, 'retrieve after delete: status ' + status);

let badSize = null;
try {
  await client.videos.create({ prompt: 'a kite', model, seconds: '1', size: '1280x720' });
} catch (err) {
  badSize = err;
}
check(badSize instanceof OpenAI.APIError && badSize.status === 400, 'bad size: ' + badSize);

console.log(JSON.stringify({ id: created.id, mp4_bytes: mp4.length, thumbnail_bytes: thumb.length, bad_size: badSize.message }));
