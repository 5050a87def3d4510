/** Why the server could not listen, in one line a person can act on (never a stack trace). */
export function describeListenError(err: unknown, host: string, port: number): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `Port ${port} is already in use on ${host}: stop the program using it, or start Almanac on another port (PORT=${port === 65535 ? 3000 : port + 1} npm start).`;
    case 'EACCES':
      return `Not allowed to listen on port ${port}: ports below 1024 need privileges; choose another with PORT=…`;
    case 'EADDRNOTAVAIL':
      return `HOST=${host} is not an address of this machine: use 0.0.0.0 (every interface) or 127.0.0.1 (this machine only).`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST=${host} does not resolve: use an IP address such as 0.0.0.0 or 127.0.0.1.`;
    default:
      return undefined;
  }
}
