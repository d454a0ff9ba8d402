import sys

from uat.cli import main

sys.exit(main())
