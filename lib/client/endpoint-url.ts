// Where the protocol's endpoints live under a base URL.

/** `{base}{path}`: a path in the base URL (e.g. a gateway prefix) is kept, query and fragment are not. */
export function endpointUrl(baseUrl: string, path: string): URL {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}
