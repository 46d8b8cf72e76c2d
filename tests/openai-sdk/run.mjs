// The OpenAI SDK pointed at codex-auth serve: base_url is the gateway's /v1,
// the API key is the local key. Prints the stream's event types as JSON.
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.NODE_PATH}/`);
const { default: OpenAI } = await import(require.resolve('openai'));
const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const stream = await client.responses.create({ model: 'gpt-5', input: 'hello', stream: true });
const types = [];
for await (const event of stream) {
  types.push(event.type);
}
console.log(JSON.stringify({ types }));
