/**
 * The baseline of the idle-device memory bench: `Deno.serve` + `Deno.upgradeWebSocket` holding every
 * socket it is given and nothing else: each message is echoed back as it is (so a socket carries what a
 * device's handshake carries). Prints `listening PORT`.
 * Usage: deno run -A bench/bare_ws_server.ts [PORT]
 */
const sockets = new Set<WebSocket>();
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
  onListen: ({ port }) => console.log(`listening ${port}`),
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  sockets.add(socket);
  socket.onmessage = (event) => socket.send(event.data);
  socket.onclose = () => sockets.delete(socket);
  return response;
});
await server.finished;
