import sys

from serve.hall import main

sys.exit(main())
