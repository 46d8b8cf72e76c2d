// The OpenAI JavaScript SDK pointed at codex-auth serve, as a user points
// it: baseURL is the gateway's /v1, the API key is the local key. Runs
// Chat Completions (whole and streamed, a tool call round trip, a refused
// field) and Responses (whole and streamed); prints what came back as JSON.
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.NODE_PATH}/`);
const { default: OpenAI } = await import(require.resolve('openai'));
const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const model = 'gpt-5.1-codex';
const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello.' },
];
const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } } },
  },
}];
const out = {};

const chat = await client.chat.completions.create({ model, messages });
out.chat = {
  object: chat.object,
  content: chat.choices[0].message.content,
  finish_reason: chat.choices[0].finish_reason,
  usage: chat.usage,
};

const chunks = await client.chat.completions.create({
  model, messages, stream: true, stream_options: { include_usage: true },
});
const streamed = { roles: [], content: '', finish_reasons: [], usage: null, chunks: 0 };
for await (const chunk of chunks) {
  streamed.chunks += 1;
  for (const choice of chunk.choices) {
    if (choice.delta.role) streamed.roles.push(choice.delta.role);
    if (choice.delta.content) streamed.content += choice.delta.content;
    if (choice.finish_reason) streamed.finish_reasons.push(choice.finish_reason);
  }
  if (chunk.usage) streamed.usage = chunk.usage;
}
out.chat_stream = streamed;

// A tool call round trip: the model calls the tool (streamed, its
// arguments in pieces), the tool's output goes back, the model answers.
const calling = await client.chat.completions.create({ model, messages, tools, stream: true });
const call = { id: '', name: '', arguments: '', pieces: 0, finish_reason: null };
for await (const chunk of calling) {
  const choice = chunk.choices[0];
  if (!choice) continue;
  for (const delta of choice.delta.tool_calls ?? []) {
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.name = delta.function.name;
    if (delta.function?.arguments) {
      call.arguments += delta.function.arguments;
      call.pieces += 1;
    }
  }
  if (choice.finish_reason) call.finish_reason = choice.finish_reason;
}
const answered = await client.chat.completions.create({
  model,
  tools,
  messages: [
    ...messages,
    { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] },
    { role: 'tool', tool_call_id: call.id, content: '18 degrees and sunny' },
  ],
});
out.tool_round_trip = {
  call: { ...call, arguments: JSON.parse(call.arguments) },
  answer: answered.choices[0].message.content,
  finish_reason: answered.choices[0].finish_reason,
};

try {
  await client.chat.completions.create({ model, messages, stop: ['\n'] });
  out.refused = null;
} catch (e) {
  out.refused = { status: e.status, code: e.code, param: e.param, type: e.type };
}

const response = await client.responses.create({ model, input: 'Say hello.', max_output_tokens: 100 });
out.responses = { object: response.object, status: response.status, output_text: response.output_text, usage: response.usage };

const events = await client.responses.create({ model, input: 'Say hello.', stream: true });
const types = [];
let text = '';
for await (const event of events) {
  types.push(event.type);
  if (event.type === 'response.output_text.delta') text += event.delta;
}
out.responses_stream = { types, text };

console.log(JSON.stringify(out));
