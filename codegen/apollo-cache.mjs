// Apollo Client keys its cache by the operation's variables, and a File serialises as {}: two
// different probe photos look like the same query. This prints how many requests reach the
// network for two different photos under each fetch policy (tests/test_codegen.py reads it).
import { ApolloClient, ApolloLink, InMemoryCache, Observable, gql } from "@apollo/client/core/index.js";

const IDENTIFY = gql`
  query Identify($image: ImageInput!) {
    verifyLinear(image: $image) { match threshold }
  }
`;

async function requestsFor(fetchPolicy) {
  let requests = 0;
  const link = new ApolloLink(
    () =>
      new Observable((observer) => {
        requests += 1;
        observer.next({ data: { verifyLinear: { __typename: "Verification", match: requests === 1, threshold: 1.087 } } });
        observer.complete();
      }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  for (const name of ["alice.jpg", "mallory.jpg"]) {
    const image = { upload: new File([name], name, { type: "image/jpeg" }) };
    await client.query({ query: IDENTIFY, variables: { image }, fetchPolicy });
  }
  return requests;
}

const result = {};
for (const policy of ["cache-first", "network-only", "no-cache"]) {
  result[policy] = await requestsFor(policy);
}
console.log(JSON.stringify(result));
