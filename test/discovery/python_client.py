"""Google's Python discovery client (Debian's python3-googleapi) against a live longrun server.

    /usr/bin/python3 test/discovery/python_client.py http://127.0.0.1:PORT

Builds a client from the server's discovery document with `build(..., discoveryServiceUrl=...)`, as
a user would, then runs every method on a top-level name and on a nested one. Prints one JSON object with what each
call returned, for test/discovery/python-client.test.ts to assert on. Anything unexpected raises,
so the script exits non-zero with a traceback.
"""

import json
import sys

from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty"}


def http_error(call):
    """The status and parsed body of the HttpError a call raises."""
    try:
        call.execute()
    except HttpError as error:
        return {"status": error.resp.status, "body": json.loads(error.content)}
    raise AssertionError("the call did not fail")


def lifecycle(operations, parent_args, name, collection):
    """create, patch, get, wait, cancel and delete one operation; list its collection to the end."""
    results = {}
    results["create"] = operations.create(
        body={"operationId": name.rsplit("/", 1)[1], "operation": {"metadata": {**EMPTY}}}, **parent_args
    ).execute()
    results["patch"] = operations.patch(
        name=name, body={"operation": {"metadata": {"@type": "type.googleapis.com/demo.Progress", "percent": 50}}}
    ).execute()
    results["get"] = operations.get(name=name).execute()

    # Four more, then every page of the collection, two at a time, with list_next.
    for index in range(4):
        operations.create(body={"operationId": f"more-{index}"}, **parent_args).execute()
    pages = []
    request = operations.list(name=collection, pageSize=2)
    while request is not None:
        response = request.execute()
        pages.append([operation["name"] for operation in response.get("operations", [])])
        request = operations.list_next(request, response)
    results["pages"] = pages
    results["filtered"] = operations.list(name=collection, filter=f'name="{collection}/more-*"').execute()

    # A long-poll answered at its timeout: the operation, not yet done.
    results["wait"] = operations.wait(name=name, body={"timeout": "0.1s"}).execute()
    results["cancel"] = operations.cancel(name=name).execute()
    results["cancelled"] = operations.get(name=name).execute()
    results["delete"] = operations.delete(name=name).execute()
    results["deleted"] = http_error(operations.get(name=name))
    return results


def main():
    url = sys.argv[1].rstrip("/")
    # No auth section in the document: the client sends no credentials and asks for none.
    service = build(
        "longrun", "v1", discoveryServiceUrl=f"{url}/$discovery/rest?version={{apiVersion}}", cache_discovery=False
    )

    results = {
        "top": lifecycle(service.operations(), {}, "operations/py-top", "operations"),
        "nested": lifecycle(
            service.parents().operations(),
            {"parent": "projects/py"},
            "projects/py/operations/py-nested",
            "projects/py/operations",
        ),
        "notFound": http_error(service.operations().get(name="operations/missing")),
        "notFoundV1": http_error(service.operations().get(name="operations/missing", x__xgafv="1")),
        "finished": service.operations()
        .create(body={"operationId": "py-done", "operation": {"done": True, "response": EMPTY}})
        .execute(),
    }

    # Python checks path parameters against the document's patterns before sending anything.
    refused = {}
    for label, call in {
        "nestedNameOnTopLevel": lambda: service.operations().get(name="projects/py/operations/x"),
        "collectionAsParent": lambda: service.parents().operations().create(parent="projects/py/operations", body={}),
    }.items():
        try:
            call()
            refused[label] = None
        except TypeError as error:
            refused[label] = str(error)
    results["refused"] = refused
    print(json.dumps(results))


if __name__ == "__main__":
    main()
